"""Money, dates and numbers on the shopper's pages, in the page's language (Babel's CLDR data).

The staff pages, the JSON API and the e-mails keep domain.money.format_amount ("25.00 EUR"): these are for a shopper
reading a page in their own language ("25,00 €" and "26 de novembro de 2026" in Portuguese, "€25.00" and
"26 November 2026" in English).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

from domain.money import CURRENCY_EXPONENTS

# British English writes the day first ("26 November 2026"), as the portal's English pages always did.
LOCALES = {"en": "en_GB", "pt": "pt_PT"}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["en"])


def money(amount: int, currency: str, lang: str) -> str:
    """Integer minor units as the language writes an amount of `currency`."""
    code = currency.upper()
    exp = CURRENCY_EXPONENTS.get(code, 2)
    return format_currency(Decimal(amount).scaleb(-exp), code, locale=locale_of(lang))


def long_date(value: date | datetime | None, lang: str) -> str:
    """A day in words: "26 November 2026", "26 de novembro de 2026"."""
    if value is None:
        return ""
    day = value.astimezone(UTC).date() if isinstance(value, datetime) and value.tzinfo else value
    return format_date(day, "long", locale=locale_of(lang))


def date_time(value: datetime, lang: str) -> str:
    """A moment of the timeline, in UTC as stored: "26 Nov 2026 14:05", "26/11/2026 14:05"."""
    at = value.astimezone(UTC) if value.tzinfo else value
    return f"{format_date(at, 'medium', locale=locale_of(lang))} {format_time(at, 'HH:mm', locale=locale_of(lang))}"


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=locale_of(lang))


def page_formats(lang: str) -> dict[str, Callable[..., str]]:
    """What a shopper's page gets in its context: `money(amount, currency)`, `date(value)`, `date_time(value)`,
    `number(value)`, each in the page's language."""
    return {
        "money": lambda amount, currency: money(amount, currency, lang),
        "date": lambda value: long_date(value, lang),
        "date_time": lambda value: date_time(value, lang),
        "number": lambda value: number(value, lang),
    }
