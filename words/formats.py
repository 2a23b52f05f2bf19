"""Money, dates and numbers in a reader's language (Babel's CLDR data): "25,00 €" and "26 de novembro de 2026" in
Portuguese, "€25.00" and "26 November 2026" in English. The shopper's pages (api/formats.py) and e-mails use them;
the staff pages and the JSON API keep domain.money.format_amount ("25.00 EUR")."""

from __future__ import annotations

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


def long_date(value: date | datetime | str | None, lang: str) -> str:
    """A day in words: "26 November 2026", "26 de novembro de 2026". A string is an ISO date (as e-mails carry it)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    day = value.astimezone(UTC).date() if isinstance(value, datetime) and value.tzinfo else value
    return format_date(day, "long", locale=locale_of(lang))


def date_time(value: datetime, lang: str) -> str:
    """A moment of the timeline, in UTC as stored: "26 Nov 2026 14:05", "26/11/2026 14:05"."""
    at = value.astimezone(UTC) if value.tzinfo else value
    return f"{format_date(at, 'medium', locale=locale_of(lang))} {format_time(at, 'HH:mm', locale=locale_of(lang))}"


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=locale_of(lang))
