"""Property: whatever returns, cancellations, inspections and finance amounts come in any order, no line and no
order is ever paid back more than was paid for it, and no fee or refund goes negative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.models import LineDecision, Order, ReturnLineRequest, ReturnLineState
from domain.policy import PolicySettings, apply_review_amount, decide, needs_review, settle

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
REASONS = ["too_small", "changed_mind", "defective", "wrong_item"]

policies = st.builds(
    PolicySettings,
    return_shipping_fee=st.integers(0, 20_000),
    restocking_fee_bps_by_reason=st.dictionaries(st.sampled_from(REASONS), st.integers(0, 10_000)),
    store_credit_bonus_bps=st.integers(0, 10_000),
    keep_it_below=st.integers(0, 5_000),
    auto_approve_limit=st.integers(0, 100_000),
    refund_review_threshold=st.integers(0, 100_000),
)
order_lines = st.lists(st.tuples(st.integers(1, 5), st.integers(0, 50_000)), min_size=1, max_size=3)


def make_order(lines: list[tuple[int, int]]) -> Order:
    return Order.model_validate({
        "number": "O1", "email": "a@example.com", "currency": "EUR", "placed_at": NOW - timedelta(days=9),
        "delivered_at": NOW - timedelta(days=5), "payment": {"provider": "stripe", "reference": "pi_1"},
        "shipping_address": {"name": "A", "line1": "R", "city": "Porto", "country": "PT"},
        "lines": [{"id": f"L{i}", "sku": f"S{i}", "title": "T", "quantity": q, "unit_price": p}
                  for i, (q, p) in enumerate(lines)],
    })  # fmt: skip


def check_line(x: LineDecision) -> None:
    assert x.fee >= 0 and x.refund >= 0 and x.store_credit >= 0
    assert x.fee <= x.value and x.refund + x.fee <= x.value


@settings(max_examples=150, deadline=None, database=None)  # no .hypothesis folder in the tree
@given(policy=policies, lines=order_lines, data=st.data())
def test_no_sequence_of_returns_pays_back_more_than_was_paid(policy, lines, data):
    order = make_order(lines)
    paid = {line.id: line.quantity * line.unit_price for line in order.lines}
    claimed: dict[str, int] = {}
    refunded = dict.fromkeys(paid, 0)
    for _ in range(data.draw(st.integers(1, 6), label="returns")):
        chosen = data.draw(st.lists(st.sampled_from(order.lines), min_size=1, max_size=3, unique_by=lambda x: x.id))
        requests = [
            ReturnLineRequest(line_id=line.id, quantity=data.draw(st.integers(1, 6)),
                              reason=data.draw(st.sampled_from(REASONS)),
                              resolution=data.draw(st.sampled_from(["refund", "refund", "store_credit"])))
            for line in chosen
        ]  # fmt: skip
        decision = decide(order, requests, claimed, NOW, policy)
        for x in decision.lines:
            check_line(x)
        if decision.ineligible:
            continue  # refused: nothing is claimed, nothing paid
        if data.draw(st.booleans(), label="cancelled before shipping"):
            continue  # a released claim pays nothing and frees the quantity
        for x in decision.lines:
            claimed[x.line_id] = claimed.get(x.line_id, 0) + x.quantity
        if decision.keep_it:
            settled = [x.model_copy() for x in decision.lines]
        else:
            states = [ReturnLineState(decision=x, accepted_quantity=data.draw(st.integers(0, x.quantity)))
                      for x in decision.lines]  # fmt: skip
            settled = settle(states, policy, "EUR")
            if needs_review(states, settled, policy):
                amount = data.draw(st.one_of(st.none(), st.integers(0, 200_000)), label="finance amount")
                if data.draw(st.booleans(), label="finance denies"):
                    for x in settled:
                        x.refund = 0
                elif amount is not None:
                    settled = apply_review_amount(settled, amount)
        for x in settled:
            check_line(x)
            refunded[x.line_id] += x.refund
            refunded[x.line_id] += min(x.store_credit, x.value)  # credit is paid back too; its bonus is the shop's gift
    for line_id, total in refunded.items():
        assert total <= paid[line_id], f"line {line_id}: paid back {total} of {paid[line_id]}"
    assert sum(refunded.values()) <= sum(paid.values())
    assert all(claimed.get(line.id, 0) <= line.quantity for line in order.lines)


@settings(max_examples=200, deadline=None, database=None)
@given(policy=policies, lines=order_lines, amount=st.integers(0, 10**7))
def test_a_finance_amount_only_ever_lowers_the_refund(policy, lines, amount):
    order = make_order(lines)
    requests = [ReturnLineRequest(line_id=x.id, quantity=x.quantity, reason="changed_mind", resolution="refund")
                for x in order.lines]  # fmt: skip
    decision = decide(order, requests, {}, NOW, policy)
    before = [x.refund for x in decision.lines]
    after = apply_review_amount([x.model_copy() for x in decision.lines], amount)
    assert all(0 <= a <= b for a, b in zip([x.refund for x in after], before, strict=True))
    assert sum(x.refund for x in after) == min(amount, sum(before))
