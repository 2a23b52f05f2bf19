"""Words for a person from a `Coded` value: per reader (staff or shopper) and in the reader's language.

A code's staff text is the catalog entry `say.<code>`; a shopper reads `say.shopper.<code>` when the catalog has one
(shopper wording: no limits, policy thresholds or staff names), else the staff text. Parameters fill the text's
`{name}` fields; amounts arrive already formatted by the caller that knows the currency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domain.codes import Coded, Reader

Translate = Callable[..., str]


def say(t: Translate, item: Coded, reader: Reader = "staff") -> str:
    if reader == "shopper":
        key = f"say.shopper.{item.code}"
        text = t(key, **item.params)
        if text != key:
            return text
    key = f"say.{item.code}"
    text = t(key, **item.params)
    return item.code.replace("_", " ") if text == key else text


def say_all(t: Translate, items: Iterable[Coded], reader: Reader = "staff") -> list[str]:
    return [say(t, x, reader) for x in items]
