"""The policy's decisions and amounts, each with its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.codes import coded
from domain.models import Inspection, InspectionLine, Order, ReturnLineRequest, ReturnLineState
from domain.money import format_amount, percent_of
from domain.policy import PolicySettings, apply_review_amount, decide, needs_review, settle, validate_inspection

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def order(delivered_days_ago: int | None = 10, **line) -> Order:
    delivered = NOW - timedelta(days=delivered_days_ago) if delivered_days_ago is not None else None
    base = {"id": "L1", "sku": "TEE", "title": "Tee", "quantity": 2, "unit_price": 2500, "final_sale": False}
    return Order.model_validate({
        "number": "O1", "email": "A@Example.com", "currency": "eur", "placed_at": NOW - timedelta(days=40),
        "delivered_at": delivered, "payment": {"provider": "stripe", "reference": "pi_1"},
        "shipping_address": {"name": "A", "line1": "R", "city": "Porto", "country": "PT"},
        "lines": [{**base, **line}],
    })  # fmt: skip


def req(quantity: int = 1, reason: str = "too_small", resolution: str = "refund", **kw) -> ReturnLineRequest:
    return ReturnLineRequest(line_id=kw.pop("line_id", "L1"), quantity=quantity, reason=reason,
                             resolution=resolution, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_order_normalizes_email_and_currency():
    o = order()
    assert o.email == "a@example.com" and o.currency == "EUR"


def test_within_window_below_limit_is_auto_approved_with_reasons():
    d = decide(order(), [req()], {}, NOW, PolicySettings())
    assert d.approved and d.status == "awaiting_shipment"
    assert d.refund_total == 2500 and d.fees_total == 0
    assert "within the auto-approve limit of 250.00 EUR" in d.reasons[1]


def test_window_closed_names_the_date():
    d = decide(order(delivered_days_ago=31), [req()], {}, NOW, PolicySettings())
    assert not d.approved and d.status is None
    assert d.ineligible[0].refusal == "return window of 30 days closed on 2026-11-22"


def test_window_boundary_is_inclusive_of_day_30():
    assert decide(order(delivered_days_ago=30), [req()], {}, NOW, PolicySettings()).approved


def test_final_sale_and_undelivered_and_unknown_lines_are_refused():
    assert (
        decide(order(final_sale=True), [req()], {}, NOW, PolicySettings())
        .ineligible[0]
        .refusal.startswith("final sale")
    )
    assert decide(order(delivered_days_ago=None), [req()], {}, NOW, PolicySettings()).ineligible[0].refusal == (
        "not delivered yet"
    )
    assert decide(order(), [req(line_id="L9")], {}, NOW, PolicySettings()).reasons == [
        "line L9: no such line in this order"
    ]


def test_quantity_already_claimed_by_other_returns():
    d = decide(order(), [req(quantity=2)], {"L1": 1}, NOW, PolicySettings())
    assert d.ineligible[0].refusal == "only 1 of this line can still be returned"
    assert decide(order(), [req()], {"L1": 2}, NOW, PolicySettings()).ineligible[0].refusal == "already returned"


def test_above_auto_approve_limit_waits_for_a_person():
    d = decide(order(unit_price=30000), [req()], {}, NOW, PolicySettings())
    assert not d.approved and d.status == "pending_approval"
    assert "above the auto-approve limit" in d.reasons[1]


def test_fees_are_deducted_from_refunds_only_and_credit_gets_its_bonus():
    policy = PolicySettings(return_shipping_fee=450, restocking_fee_bps=1000, store_credit_bonus_bps=500)
    refund = decide(order(), [req(reason="changed_mind")], {}, NOW, policy)
    assert (refund.fees_total, refund.refund_total) == (250 + 450, 2500 - 700)
    defective = decide(order(), [req(reason="defective")], {}, NOW, policy)
    assert defective.fees_total == 450
    credit = decide(order(), [req(reason="changed_mind", resolution="store_credit")], {}, NOW, policy)
    assert (credit.fees_total, credit.store_credit_total, credit.refund_total) == (0, 2625, 0)


def test_exchange_needs_a_sku():
    with pytest.raises(ValueError, match="exchange_sku"):
        req(resolution="exchange")


def states(quantity: int = 2, accepted: int | None = None, **kw) -> list[ReturnLineState]:
    d = decide(order(), [req(quantity=quantity, **kw)], {}, NOW, PolicySettings())
    return [ReturnLineState(decision=x, accepted_quantity=accepted) for x in d.lines]


def test_settlement_pays_only_accepted_quantity_and_flags_refusal_for_review():
    lines = states(accepted=1)
    settled = settle(lines, PolicySettings())
    assert settled[0].refund == 2500
    assert needs_review(lines, settled, PolicySettings()) == [coded("review_refused_at_inspection", line="L1")]
    full = states(accepted=2)
    assert needs_review(full, settle(full, PolicySettings()), PolicySettings()) == []
    assert needs_review(full, settle(full, PolicySettings()), PolicySettings(refund_review_threshold=4999)) == [
        coded("review_above_threshold")
    ]


def test_inspection_errors_name_the_field():
    lines = states()
    bad = Inspection(lines=[InspectionLine(line_id="L1", accepted_quantity=3, condition="new", restock=True)])
    assert validate_inspection(lines, bad) == ["lines[0].accepted_quantity: 3 is more than the 2 returned"]
    other = Inspection(lines=[InspectionLine(line_id="X", accepted_quantity=1, condition="new", restock=True)])
    assert validate_inspection(lines, other) == [
        "lines[0].line_id: X is not part of this return",
        "lines: missing inspection for L1",
    ]


def test_review_amount_cuts_the_refund_never_raises_it():
    settled = settle(states(accepted=2), PolicySettings())
    assert [x.refund for x in apply_review_amount(settled, 4000)] == [4000]
    assert [x.refund for x in apply_review_amount(settled, 9999)] == [4000]


def test_money_helpers_use_integers():
    assert percent_of(2500, 1000) == 250 and percent_of(5, 1000) == 1  # half up
    assert format_amount(123456, "EUR") == "1234.56 EUR" and format_amount(500, "JPY") == "500 JPY"
