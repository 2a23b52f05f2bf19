"""A timeline entry in words for its reader: from the entry's code and parameters (domain.models.TimelineEntry),
made here at the edge, in the reader's language (catalog keys `say.<code>`, `say.shopper.<code>` in api/locale).

Staff read every parameter; a shopper reads shopper wording (roles, never names; no limits or policy thresholds)
and only the parameters SHOPPER_HIDDEN leaves them. Amounts are integers in minor units of the return's currency,
formatted here; lists are joined here, each part in words of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from api.wording import Translate, say
from domain.codes import Coded, Reader
from domain.money import format_amount

AMOUNTS = frozenset({"amount"})
# Parameters a shopper does not get, in the JSON or in words: policy limits, finance's reasons, the card's words.
SHOPPER_HIDDEN: dict[str, frozenset[str]] = {
    "finance_review": frozenset({"reasons"}),
    "inspected": frozenset({"lines"}),  # line ids: the page explains what was not accepted by item
    "instant_exchange_hold_refused": frozenset({"reason"}),
    "difference_not_charged": frozenset({"reason"}),
    "expired": frozenset({"days"}),
    "labels_voided": frozenset({"days"}),
    "parcel_stuck": frozenset({"days"}),
    "parcel_lost": frozenset({"days"}),
    "label_unavailable": frozenset({"reason"}),  # the carrier's words, in its language: staff act on them
}


def shopper_params(code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    hidden = SHOPPER_HIDDEN.get(code, frozenset())
    return {k: v for k, v in params.items() if k not in hidden}


Money = Callable[[int, str], str]


def entry_text(t: Translate, code: str, params: Mapping[str, Any], currency: str, reader: Reader,
               reasons: Callable[[], str], money: Money = format_amount) -> str:  # fmt: skip
    """The entry's words. `reasons`: the return's decision reasons in the reader's language, joined (the
    `return_requested` entry names them). `money`: how amounts are written (the JSON's "25.00 EUR" unless a page
    writes them in its language)."""
    shown = dict(params) if reader == "staff" else shopper_params(code, params)
    words: dict[str, str | int] = {}
    for key, value in shown.items():
        words[key] = _param(t, code, key, value, currency, money)
    if code == "return_requested":
        words["reasons"] = reasons()
    if code == "labels_issued":
        words["count"] = len(shown.get("tracking_numbers") or [])
    if code == "completed":
        words["summary"] = _completed(t, shown, currency, money)
    return say(t, Coded(code=code, params=words), reader)


def _word(t: Translate, key: str, default: str) -> str:
    text = t(key)
    return default if text == key else text


def _param(t: Translate, code: str, key: str, value: Any, currency: str, money: Money) -> str | int:
    if key in AMOUNTS and isinstance(value, int):
        return money(value, currency)
    if key == "event":
        return _word(t, f"say.event.{value}", str(value).replace("_", " "))
    if key == "after":
        return _word(t, f"say.after.{value}", str(value).replace("_", " "))
    if key == "fallback":
        return _word(t, f"say.fallback.{value}", str(value).replace("_", " "))
    if key == "what":  # what a refused refund was for: a line id, the original shipping or the captured hold
        return t(f"say.what.{value}") if value in ("shipping", "hold") else t("say.what.line", line=value)
    if key == "condition":
        return _word(t, f"say.condition.{value}", str(value))
    if key == "reasons" and isinstance(value, list):  # finance review: why, as codes (domain.policy.needs_review)
        return "; ".join(say(t, Coded.model_validate(x)) for x in value)
    if key == "lines" and code == "inspected":
        return ", ".join(t("say.part.inspected_line", line=x["line"], accepted=x["accepted"],
                           condition=_word(t, f"say.condition.{x['condition']}", str(x["condition"])))
                         for x in value)  # fmt: skip
    if key == "missing":
        parts = [f"{x['parcel']}/{x['parcels']} ({x['tracking']})" for x in value]
        return ", ".join(parts) or t("say.part.none")
    if isinstance(value, list):
        return ", ".join(str(x) for x in value)
    return value if isinstance(value, int) else str(value)


def _completed(t: Translate, params: Mapping[str, Any], currency: str, money: Money) -> str:
    parts = []
    if params.get("refund"):
        parts.append(t("say.part.refunded", amount=money(params["refund"], currency)))
    if params.get("store_credit"):
        parts.append(t("say.part.store_credit", amount=money(params["store_credit"], currency)))
    if params.get("exchanged"):
        parts.append(t("say.part.exchange_shipped"))
    return ", ".join(parts) if parts else t("say.part.nothing")
