"""The policy's reasons in words, from their codes, for one reader in one language (issue 15).

Amount parameters (integer minor units with the `currency` parameter) are formatted here, basis points become a
percentage, and a parameter value with words of its own (`say.param.<name>.<value>`) is said with them. A reason
about one line of the return (a `line_id` parameter) names the line: its id for staff, its title for a shopper.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.wording import Translate, say
from domain.codes import Coded, Param, Reader
from domain.fees import percent
from domain.money import format_amount
from domain.reason_codes import AMOUNT_PARAMS, for_shopper


def _shown(t: Translate, params: dict[str, Param]) -> dict[str, Param]:
    currency = str(params.get("currency", ""))
    out = dict(params)
    for name, value in params.items():
        if name in AMOUNT_PARAMS and isinstance(value, int):
            out[name] = format_amount(value, currency) if currency else f"{value} minor units"
        elif name == "bps" and isinstance(value, int):
            out["percent"] = percent(value)
        elif isinstance(value, str) and (key := f"say.param.{name}.{value}") and t(key) != key:
            out[name] = t(key)
    return out


def reason_text(t: Translate, item: Coded, reader: Reader = "staff") -> str:
    shown = for_shopper(item) if reader == "shopper" else item
    params = _shown(t, shown.params)
    text = say(t, Coded(code=item.code, params=params), reader)
    if "line_id" not in item.params or (reader == "shopper" and not item.params.get("title")):
        return text
    return say(t, Coded(code="on_line", params={**params, "text": text}), reader)


def reason_texts(t: Translate, items: Iterable[Coded], reader: Reader = "staff") -> list[str]:
    return [reason_text(t, x, reader) for x in items]
