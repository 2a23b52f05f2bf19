"""Each rule of the policy document, with the explanation the shopper, the admin and finance read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.codes import coded
from domain.models import Order, ReturnLineRequest, ReturnLineState
from domain.policy import PolicySettings, ReturnerHistory, decide, settle
from domain.screening import REVIEW_FOR_SCREENING

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def order(*lines: dict, delivered_days_ago: int = 10, email: str = "ana@example.com") -> Order:
    base = {"id": "L1", "sku": "TEE", "title": "Tee", "quantity": 2, "unit_price": 2500}
    return Order.model_validate({
        "number": "O1", "email": email, "currency": "EUR", "placed_at": NOW - timedelta(days=60),
        "delivered_at": NOW - timedelta(days=delivered_days_ago),
        "payment": {"provider": "stripe", "reference": "pi_1"},
        "shipping_address": {"name": "A", "line1": "R", "city": "Porto", "country": "PT"},
        "lines": [{**base, **x} for x in (lines or ({},))],
    })  # fmt: skip


def req(line_id: str = "L1", quantity: int = 1, reason: str = "too_small", resolution: str = "refund", **kw):
    return ReturnLineRequest(line_id=line_id, quantity=quantity, reason=reason, resolution=resolution, **kw)


def test_lines_without_tags_or_category_keep_the_default_window_and_say_until_when():
    d = decide(order(), [req()], {}, NOW, PolicySettings())
    assert d.approved
    assert d.reasons[0] == "every line is within the 30-day return window and returnable"
    assert d.lines[0].reasons == ["return window of 30 days open until 2026-12-13"]
    assert d.reason_codes[0] == coded("within_window_all", days=30)
    assert d.lines[0].reason_codes == [coded("within_window", days=30, open_until="2026-12-13")]


def test_window_per_category_and_per_tag_where_the_longest_tag_wins():
    policy = PolicySettings(window_days_by_category={"electronics": 14}, window_days_by_tag={"holiday": 60, "vip": 45})
    phone = {"id": "P", "category": "electronics"}
    d = decide(order(phone, delivered_days_ago=20), [req("P")], {}, NOW, policy)
    assert d.ineligible[0].refusal == "return window of 14 days (category electronics) closed on 2026-11-17"
    assert d.ineligible[0].refusal_code == coded("outside_window_by_category", days=14, closed_on="2026-11-17",
                                                 category="electronics")  # fmt: skip
    gift = {"id": "G", "category": "electronics", "tags": ["vip", "holiday"]}
    d = decide(order(gift, delivered_days_ago=50), [req("G")], {}, NOW, policy)
    assert d.approved and d.reasons[0] == "every line is within its return window and returnable"
    assert d.lines[0].reasons[0] == "return window of 60 days (tag holiday) open until 2026-12-03"
    # Decided from where each line's window comes from, not from the words: one line under its own window is enough.
    assert d.reason_codes[0] == coded("within_own_windows")
    assert d.lines[0].reason_codes[0] == coded("within_window_by_tag", days=60, open_until="2026-12-03", tag="holiday")
    both = decide(order(gift, {"id": "L1"}, delivered_days_ago=5), [req("L1"), req("G")], {}, NOW, policy)
    assert [x.code for x in both.reason_codes][:1] == ["within_own_windows"]


def test_final_sale_flag_and_non_returnable_tags_refuse_the_line_naming_why():
    policy = PolicySettings(non_returnable_tags=["final_sale", "hygiene"])
    d = decide(order({"tags": ["hygiene"]}), [req()], {}, NOW, policy)
    assert d.reasons == ["line L1: tagged hygiene: this item cannot be returned"]
    assert d.reason_codes == [coded("not_returnable_tag", tag="hygiene", line_id="L1", title="Tee")]
    assert d.ineligible[0].reason_codes == [coded("not_returnable_tag", tag="hygiene")]
    d = decide(order({"tags": ["final_sale"]}), [req()], {}, NOW, policy)
    assert d.ineligible[0].refusal == "final sale: this item cannot be returned"
    # A tag the policy does not list is just a tag.
    assert decide(order({"tags": ["hygiene"]}), [req()], {}, NOW, PolicySettings()).approved


def test_restocking_fee_by_reason_with_none_for_defective_or_wrong_items():
    policy = PolicySettings(restocking_fee_bps_by_reason={"changed_mind": 1000, "too_big": 550})
    mind = decide(order(), [req(reason="changed_mind")], {}, NOW, policy)
    assert (mind.fees_total, mind.refund_total) == (250, 2250)
    assert mind.lines[0].reasons[1] == "restocking fee 10% for changed_mind: 2.50 EUR"
    assert mind.lines[0].reason_codes[1] == coded("restocking_fee", bps=1000, reason="changed_mind", fee=250,
                                                  currency="EUR")  # fmt: skip
    big = decide(order(), [req(reason="too_big")], {}, NOW, policy)
    assert big.fees_total == 138 and big.lines[0].reasons[1] == "restocking fee 5.5% for too_big: 1.38 EUR"
    for reason in ("defective", "wrong_item"):
        d = decide(order(), [req(reason=reason)], {}, NOW, policy)
        assert (d.fees_total, d.refund_total) == (0, 2500)
        assert d.lines[0].reasons[1] == f"no restocking fee for {reason}"


def test_the_older_restocking_settings_still_mean_the_same():
    policy = PolicySettings(restocking_fee_bps=1000, restocking_fee_reasons=["changed_mind"])
    assert policy.restocking_bps("changed_mind") == 1000 and policy.restocking_bps("defective") == 0
    assert decide(order(), [req(reason="changed_mind")], {}, NOW, policy).fees_total == 250


def test_return_shipping_is_deducted_once_from_refunds_and_waived_for_credit_and_exchange():
    policy = PolicySettings(return_shipping_fee=450, store_credit_bonus_bps=500)
    two = order({}, {"id": "L2"})
    d = decide(two, [req("L1"), req("L2")], {}, NOW, policy)
    assert [x.fee for x in d.lines] == [450, 0] and d.refund_total == 5000 - 450
    assert d.lines[0].reasons[1] == "return shipping fee deducted: 4.50 EUR"
    credit = decide(order(), [req(resolution="store_credit")], {}, NOW, policy)
    assert (credit.fees_total, credit.store_credit_total) == (0, 2625)
    assert credit.lines[0].reasons[1:] == ["return shipping fee waived for store credit",
                                           "store credit bonus 5%: 1.25 EUR"]  # fmt: skip
    swap = decide(order(), [req(resolution="exchange", exchange_sku="TEE-L")], {}, NOW, policy)
    assert swap.fees_total == 0 and "return shipping fee waived for exchange" in swap.lines[0].reasons


def test_fees_never_exceed_the_line_value():
    policy = PolicySettings(return_shipping_fee=10_000, restocking_fee_bps_by_reason={"changed_mind": 10_000})
    d = decide(order({"unit_price": 300}), [req(reason="changed_mind")], {}, NOW, policy)
    assert (d.lines[0].fee, d.lines[0].refund) == (300, 0)


def test_keep_it_below_a_value_refunds_without_return_or_fees():
    policy = PolicySettings(keep_it_below=3000, return_shipping_fee=450, restocking_fee_bps=1000)
    d = decide(order(), [req(reason="changed_mind")], {}, NOW, policy)
    assert d.keep_it and d.approved and (d.refund_total, d.fees_total) == (2500, 0)
    assert d.reasons[-1] == "value is below the keep-it limit of 30.00 EUR: keep the items, no need to send them back"
    assert d.reason_codes[-1] == coded("keep_it", limit=3000, currency="EUR")
    assert "keep it: no return shipping and no restocking fee" in d.lines[0].reasons
    # At or above the limit, or with an exchange (the replacement must ship), the items come back.
    assert not decide(order(), [req(quantity=2)], {}, NOW, policy).keep_it
    assert not decide(order(), [req(resolution="exchange", exchange_sku="X")], {}, NOW, policy).keep_it
    assert not decide(order(), [req()], {}, NOW, PolicySettings()).keep_it  # off by default


def test_auto_approve_limit_sends_bigger_returns_to_a_person():
    d = decide(order({"unit_price": 30000}), [req()], {}, NOW, PolicySettings(keep_it_below=10**6))
    assert d.status == "pending_approval" and not d.keep_it
    assert d.reasons[1] == "value 300.00 EUR is above the auto-approve limit of 250.00 EUR: a person will review it"
    assert d.reason_codes[1] == coded("above_approval_limit", value=30000, limit=25000, currency="EUR")


def test_blocked_email_is_never_auto_approved_nor_kept():
    policy = PolicySettings(blocked_emails=["  Ana@Example.com"], keep_it_below=10_000)
    d = decide(order(), [req()], {}, NOW, policy)
    assert not d.approved and d.status == "pending_approval" and not d.keep_it
    # Staff read why; the shopper reads only that a person will look at it.
    assert d.review_notes == ["e-mail ana@example.com is on the block list: a person will review it"]
    assert REVIEW_FOR_SCREENING in d.reasons and not any("block list" in r for r in d.reasons)
    assert coded("review_for_screening") in d.reason_codes


def test_serial_returners_by_count_and_by_value_go_to_manual_review():
    policy = PolicySettings(serial_max_returns=3, serial_max_value=10_000)
    calm = decide(order(), [req()], {}, NOW, policy, ReturnerHistory(returns=2, value=7_000))
    assert calm.approved
    many = decide(order(), [req()], {}, NOW, policy, ReturnerHistory(returns=3, value=0))
    assert many.status == "pending_approval"
    assert many.review_notes == ["4 returns in the last 90 days, more than the 3 allowed: a person will review it"]
    costly = decide(order(), [req()], {}, NOW, policy, ReturnerHistory(returns=0, value=8_000))
    assert costly.status == "pending_approval"
    assert costly.review_notes == [
        "returns worth 105.00 EUR in the last 90 days, more than 100.00 EUR: a person will review it"
    ]
    for d in (many, costly):
        assert REVIEW_FOR_SCREENING in d.reasons and not any("in the last 90 days" in r for r in d.reasons)
    # Without a history (nothing known), the rule does not apply.
    assert decide(order(), [req()], {}, NOW, policy).approved


def test_settlement_explains_what_was_accepted_and_what_was_deducted():
    policy = PolicySettings(restocking_fee_bps_by_reason={"changed_mind": 1000})
    d = decide(order(), [req(quantity=2, reason="changed_mind")], {}, NOW, policy)
    settled = settle([ReturnLineState(decision=d.lines[0], accepted_quantity=1)], policy, "EUR")
    assert (settled[0].refund, settled[0].fee) == (2250, 250)
    assert settled[0].reasons == ["1 of 2 accepted at inspection", "restocking fee 10% for changed_mind: 2.50 EUR"]
