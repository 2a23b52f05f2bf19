"""The policy's limits judge an order, not each return: keep_it_below, auto_approve_limit and refund_review_threshold
count the order's other returns (what they hold, `returned`, at the lines' prices) with this one. Otherwise an order
of 5 x 25.00 EUR under keep_it_below 30.00 was refunded whole, with nothing sent back, in five one-unit returns."""

from __future__ import annotations

from domain.codes import coded
from domain.models import ReturnLineState
from domain.policy import PolicySettings, decide, needs_review, settle
from tests.domain.test_policy import NOW, order, req

KEEP_IT = PolicySettings(keep_it_below=3000)


def test_five_one_unit_returns_keep_only_what_one_return_of_them_all_would():
    five = order(quantity=5)
    first = decide(five, [req()], {}, NOW, KEEP_IT)
    assert first.keep_it and first.approved
    for held in range(1, 5):  # units the order's earlier returns hold
        later = decide(five, [req()], {"L1": held}, NOW, KEEP_IT)
        assert not later.keep_it and later.approved and later.status == "awaiting_shipment"
        assert later.lines[0].fee == 0 and later.refund_total == 2500  # an ordinary return, fees as the policy says


def test_the_auto_approve_limit_counts_the_order_s_other_returns_and_says_so():
    o = order(quantity=3, unit_price=10000)
    assert decide(o, [req()], {"L1": 1}, NOW, PolicySettings()).approved  # 200.00 of 250.00
    d = decide(o, [req()], {"L1": 2}, NOW, PolicySettings())
    assert not d.approved and d.status == "pending_approval"
    assert "value 100.00 EUR (300.00 EUR with the order's other returns) is above the auto-approve limit of " \
           "250.00 EUR: a person will review it" in d.reasons  # fmt: skip
    alone = decide(o, [req()], {}, NOW, PolicySettings())
    assert "value 100.00 EUR is within the auto-approve limit of 250.00 EUR" in alone.reasons


def test_other_returns_count_at_the_lines_prices():
    from domain.policy import others_value  # here, so the other tests run (and fail) on code without it

    two_lines = order(quantity=2).model_copy(deep=True)
    two_lines.lines.append(two_lines.lines[0].model_copy(update={"id": "L2", "unit_price": 900}))
    assert others_value(two_lines, {"L1": 2, "L2": 1, "L9": 4}) == 2 * 2500 + 900  # an unknown line holds nothing


def test_the_refund_review_threshold_counts_the_order_s_other_returns():
    policy = PolicySettings(refund_review_threshold=4000)
    decision = decide(order(), [req()], {}, NOW, policy)
    lines = [ReturnLineState(decision=x, accepted_quantity=x.quantity, condition="new") for x in decision.lines]
    settled = settle(lines, policy)
    assert needs_review(lines, settled, policy) == []
    assert needs_review(lines, settled, policy, others=2500) == [coded("review_above_threshold_with_others")]
    # Store credit is no refund: the threshold is about money leaving the shop.
    credit = decide(order(), [req(resolution="store_credit")], {}, NOW, policy)
    credit_lines = [ReturnLineState(decision=x, accepted_quantity=x.quantity, condition="new") for x in credit.lines]
    assert needs_review(credit_lines, settle(credit_lines, policy), policy, others=2500) == []
