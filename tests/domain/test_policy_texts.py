"""Every explanation the policy writes has a Portuguese form where the timeline quotes it in English ("return
requested: ..."); pages and the JSON say reasons from their codes (tests/domain/test_reason_codes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.i18n import policy_text
from domain.models import Order, ReturnLineRequest, ReturnLineState
from domain.policy import PolicySettings, ReturnerHistory, decide, settle


def test_every_policy_explanation_reads_in_portuguese():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    order = Order.model_validate({
        "number": "O1", "email": "a@example.com", "currency": "EUR", "placed_at": now - timedelta(days=30),
        "delivered_at": now - timedelta(days=20), "payment": {"provider": "stripe", "reference": "pi_1"},
        "shipping_address": {"name": "A", "line1": "R", "city": "Porto", "country": "PT"},
        "lines": [{"id": "A", "sku": "A", "title": "A", "quantity": 5, "unit_price": 1000, "tags": ["holiday"]},
                  {"id": "B", "sku": "B", "title": "B", "quantity": 5, "unit_price": 1000, "category": "tech"},
                  {"id": "C", "sku": "C", "title": "C", "quantity": 5, "unit_price": 1000, "tags": ["hygiene"]},
                  {"id": "D", "sku": "D", "title": "D", "quantity": 5, "unit_price": 1000}],
    })  # fmt: skip
    policy = PolicySettings(window_days_by_tag={"holiday": 60}, window_days_by_category={"tech": 14},
                            non_returnable_tags=["hygiene"], return_shipping_fee=100, store_credit_bonus_bps=500,
                            restocking_fee_bps_by_reason={"changed_mind": 1000}, blocked_emails=["a@example.com"],
                            serial_max_returns=0, serial_max_value=0, keep_it_below=10**6)  # fmt: skip

    def req(line_id: str, reason: str = "changed_mind", resolution: str = "refund") -> ReturnLineRequest:
        return ReturnLineRequest(line_id=line_id, quantity=1, reason=reason, resolution=resolution)  # type: ignore[arg-type]

    history = ReturnerHistory(returns=1, value=1)
    decisions = [
        decide(order, [req("A"), req("D", "defective")], {}, now, policy),
        decide(order, [req("A"), req("D", "too_small", "store_credit")], {}, now, policy, history),
        decide(order, [req("B"), req("C")], {}, now, policy),
        decide(order, [req("A")], {}, now, policy.model_copy(update={"blocked_emails": []})),
    ]
    texts = {r for d in decisions for r in d.reasons} | {r for d in decisions for x in d.lines for r in x.reasons}
    texts |= {r for x in settle([ReturnLineState(decision=decisions[0].lines[0], accepted_quantity=1)], policy, "EUR")
              for r in x.reasons}  # fmt: skip
    assert len(texts) >= 12, texts
    assert [t for t in sorted(texts) if policy_text(t, "pt") == t] == []
