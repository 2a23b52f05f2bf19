"""Money, dates and numbers on the shopper's pages, in the page's language: words/formats.py (the e-mails use the
same), bound to a page's language for its templates."""

from __future__ import annotations

from collections.abc import Callable

from words.formats import LOCALES, date_time, locale_of, long_date, money, number

__all__ = ["LOCALES", "date_time", "locale_of", "long_date", "money", "number", "page_formats"]


def page_formats(lang: str) -> dict[str, Callable[..., str]]:
    """What a shopper's page gets in its context: `money(amount, currency)`, `date(value)`, `date_time(value)`,
    `number(value)`, each in the page's language."""
    return {
        "money": lambda amount, currency: money(amount, currency, lang),
        "date": lambda value: long_date(value, lang),
        "date_time": lambda value: date_time(value, lang),
        "number": lambda value: number(value, lang),
    }
