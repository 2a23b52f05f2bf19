"""The policy's reasons as codes: every reason it writes has a code whose staff English is what it wrote, in both
languages, and whose shopper words leave out the shop's thresholds, tags, SKUs and line ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.i18n import translator
from api.reason_words import reason_text
from domain.codes import Coded
from domain.exchanges import ExchangeQuote, price_exchanges
from domain.models import Decision, Order, ReturnLineRequest, ReturnLineState
from domain.policy import PolicySettings, ReturnerHistory, decide, settle
from domain.reason_codes import STAFF_ONLY_PARAMS, for_shopper
from tests.i18n.test_catalogs import catalog, texts

NOW = datetime(2026, 11, 23, tzinfo=UTC)

EN, PT = texts(catalog("en")), texts(catalog("pt_PT"))


def _order(delivered: int | None = 20) -> Order:
    return Order.model_validate({
        "number": "O1", "email": "a@example.com", "currency": "EUR", "placed_at": NOW - timedelta(days=40),
        "delivered_at": NOW - timedelta(days=delivered) if delivered is not None else None,
        "payment": {"provider": "stripe", "reference": "pi_1"},
        "shipping_address": {"name": "A", "line1": "R", "city": "Porto", "country": "PT"},
        "lines": [{"id": "A", "sku": "SKU-A", "title": "Holiday jumper", "quantity": 5, "unit_price": 1000, "tags": ["holiday"]},
                  {"id": "B", "sku": "SKU-B", "title": "Phone", "quantity": 5, "unit_price": 1000, "category": "tech"},
                  {"id": "C", "sku": "SKU-C", "title": "Brush", "quantity": 5, "unit_price": 1000, "tags": ["hygiene"]},
                  {"id": "D", "sku": "SKU-D", "title": "Tee", "quantity": 5, "unit_price": 1000},
                  {"id": "E", "sku": "SKU-E", "title": "Scarf", "quantity": 1, "unit_price": 1000, "final_sale": True},
                  {"id": "F", "sku": "SKU-F", "title": "Coat", "quantity": 1, "unit_price": 30000,
                   "tags": ["holiday"]},
                  {"id": "G", "sku": "SKU-G", "title": "Hat", "quantity": 1, "unit_price": 1000}],
    })  # fmt: skip


def _req(line_id: str, reason: str = "changed_mind", resolution: str = "refund", **kw: object) -> ReturnLineRequest:
    return ReturnLineRequest.model_validate({"line_id": line_id, "quantity": kw.pop("quantity", 1), "reason": reason,
                                             "resolution": resolution, **kw})  # fmt: skip


def _decisions() -> list[Decision]:
    """Decisions that between them write every reason the policy has."""
    order = _order()
    policy = PolicySettings(window_days_by_tag={"holiday": 60}, window_days_by_category={"tech": 14},
                            non_returnable_tags=["hygiene"], return_shipping_fee=100, store_credit_bonus_bps=500,
                            restocking_fee_bps_by_reason={"changed_mind": 1000}, blocked_emails=["a@example.com"],
                            serial_max_returns=0, keep_it_below=10**6, window_days=30)  # fmt: skip
    calm = policy.model_copy(update={"blocked_emails": [], "serial_max_returns": None})
    tight = calm.model_copy(update={"window_days": 10, "keep_it_below": 0})
    history = ReturnerHistory(returns=1, value=1)
    decisions = [
        decide(order, [_req("A"), _req("D", "defective")], {}, NOW, policy),
        decide(order, [_req("A"), _req("D", "too_small", "store_credit")], {}, NOW, policy, history),
        decide(order, [_req("B"), _req("C"), _req("E"), _req("Z")], {}, NOW, policy),
        decide(order, [_req("D", quantity=5)], {"D": 2}, NOW, policy),
        decide(order, [_req("D")], {"D": 5}, NOW, policy),
        decide(order, [_req("D", "bored")], {}, NOW, policy),
        decide(order, [_req("D")], {}, NOW, tight),
        decide(_order(None), [_req("D")], {}, NOW, policy),
        decide(order, [_req("A")], {}, NOW, calm),  # keep it
        decide(order, [_req("A")], {"D": 1}, NOW, calm),  # keep it, with the order's other returns
        decide(order, [_req("F")], {}, NOW, calm),  # above the limit
        decide(order, [_req("F")], {"D": 1}, NOW, calm),  # above, with the order's other returns
        decide(order, [_req("D")], {"D": 1}, NOW, calm.model_copy(update={"keep_it_below": 0})),
        decide(_order(5), [_req("B")], {}, NOW, calm),  # the category's window, open
        decide(_order(70), [_req("A")], {}, NOW, calm),  # the tag's window, closed
    ]
    swaps = [_req("A", "too_small", "exchange", exchange_sku="X-1"), _req("D", "too_small", "exchange",
             exchange_sku="X-2", difference_to="store_credit"), _req("F", "too_small", "exchange", exchange_sku="X-3"),
             _req("G", "too_small", "exchange", exchange_sku="X-4")]  # fmt: skip
    quotes = [ExchangeQuote(line_id="A", sku="X-1", unit_price=1500, currency="EUR", reserved=True),
              ExchangeQuote(line_id="D", sku="X-2", unit_price=500, currency="EUR", reserved=False),
              ExchangeQuote(line_id="F", sku="X-3", unit_price=30000, currency="EUR", reserved=True),
              ExchangeQuote(line_id="G", sku="X-4")]  # fmt: skip
    for fallback in ("refund", "store_credit"):
        swap = decide(order, swaps, {}, NOW, calm.model_copy(update={"exchange_fallback": fallback}))
        swap.add_reasons(price_exchanges(swap.lines, swaps, quotes, "EUR", calm.model_copy(
            update={"exchange_fallback": fallback})))  # fmt: skip
        decisions.append(swap)
    settled = settle([ReturnLineState(decision=decisions[0].lines[0], accepted_quantity=1)], policy, "EUR")
    settled += settle([ReturnLineState(decision=decisions[0].lines[1], accepted_quantity=0)], policy)
    decisions.append(decisions[0].model_copy(update={"lines": settled, "reasons": [], "reason_codes": []}))
    return decisions


def _pairs() -> list[tuple[str, Coded]]:
    pairs = []
    for d in _decisions():
        assert len(d.reasons) == len(d.reason_codes)
        pairs += list(zip(d.reasons, d.reason_codes, strict=True))
        for x in d.lines:
            pairs += list(zip(x.reasons, x.reason_codes, strict=True))
            if x.refusal_code:
                pairs.append((str(x.refusal), x.refusal_code))
    return pairs


def _catalog_codes() -> set[str]:
    return {k.removeprefix("say.") for k in EN if k.startswith("say.") and not k.startswith(("say.shopper.",
            "say.param.")) and k != "say.on_line"}  # fmt: skip


def test_every_reason_has_a_code_whose_staff_english_is_the_text_the_policy_wrote():
    pairs = _pairs()
    en = translator("en")
    assert [(text, code) for text, code in pairs if reason_text(en, code, "staff") != text] == []
    # Every code the catalog words is written by the policy somewhere, and every written code has words.
    # (the catalogs' say.* entries also hold the timeline's codes: every reason code is among them)
    assert {code.code for _, code in pairs} <= _catalog_codes()


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_a_shopper_reads_no_threshold_tag_sku_or_line_id(lang: str):
    t = translator(lang)
    for _, code in _pairs():
        shopper = reason_text(t, code, "shopper")
        assert shopper and not shopper.startswith("say."), code
        for secret in ("250.00", "10000.00", "holiday", "hygiene", "tech", "SKU-", "X-1", "X-2", "X-4", "line ",
                       "artigo A", "artigo D", "artigo Z", "auto-approve", "aprovação automática", "keep-it"):  # fmt: skip
            assert secret not in shopper, (code, shopper)
        assert not STAFF_ONLY_PARAMS & set(for_shopper(code).params), code
    en = translator("en")
    shown = {reason_text(en, c, "shopper") for _, c in _pairs()}
    assert "approved at once" in shown and "keep the items, no need to send them back" in shown
    assert "Hat: the item you chose cannot be sent in exchange: you get a refund" in shown
    assert "Hat: the item you chose cannot be sent in exchange: you get a store credit" in shown


def test_every_code_reads_in_portuguese_for_staff_and_shoppers():
    pt, en = translator("pt"), translator("en")
    missing = [c for c in sorted(_catalog_codes()) if f"say.{c}" not in PT]
    missing += [k for k in EN if k.startswith("say.") and k not in PT]
    assert missing == []
    for _, code in _pairs():
        for reader in ("staff", "shopper"):
            said = reason_text(pt, code, reader)  # type: ignore[arg-type]
            assert said != reason_text(en, code, reader), (code, said)
