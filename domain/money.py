"""Money as integer minor units plus an ISO 4217 currency code."""

from __future__ import annotations

from pydantic import BaseModel, field_validator

# Currencies we accept and how many minor units each has; amounts are always integers in minor units.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "PLN": 2, "SEK": 2, "DKK": 2, "NOK": 2,
    "CZK": 2, "CAD": 2, "AUD": 2, "BRL": 2, "JPY": 0,
}  # fmt: skip


def normalize_currency(code: str) -> str:
    upper = code.upper()
    if upper not in CURRENCY_EXPONENTS:
        raise ValueError(f"unknown currency {code!r}; use an ISO 4217 code such as EUR")
    return upper


def format_amount(amount: int, currency: str) -> str:
    exp = CURRENCY_EXPONENTS.get(currency.upper(), 2)
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exp) if exp else (abs(amount), 0)
    return f"{sign}{whole}.{frac:0{exp}d} {currency.upper()}" if exp else f"{sign}{whole} {currency.upper()}"


def percent_of(amount: int, basis_points: int) -> int:
    """basis_points/10000 of amount, rounded half up, never a float."""
    return (amount * basis_points + 5000) // 10000


class Money(BaseModel):
    amount: int
    currency: str

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        return normalize_currency(v)

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)
