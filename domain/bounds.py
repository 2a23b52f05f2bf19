"""Bounded numbers and dates: every number and date that comes from outside is one of these, so a value that
fits its JSON type but not the shop (a 10-billion-day window, the year 9999) is a 422 at the edge instead of
an overflow later, in a query, a timer or a comparison, where it breaks every call that reads it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

# PostgreSQL's integer: what a version number or a count is stored as.
INT32_MAX = 2**31 - 1
# Ten years: longer than any return window, reminder or expiry a shop sets, and far below where date arithmetic
# (now + days) leaves the datetime range.
MAX_DAYS = 3650
FIRST_YEAR, LAST_YEAR = 2000, 2099

MinorUnits = Annotated[int, Field(ge=0, le=10**12)]  # ten billion in a two-decimal currency; sums stay in int64
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
PositiveDays = Annotated[int, Field(ge=1, le=MAX_DAYS)]
BasisPoints = Annotated[int, Field(ge=0, le=10_000)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]


def _shop_year(value: datetime) -> datetime:
    # The wall-clock year, not the UTC one: converting 9999-12-31T23:00-05:00 to UTC would itself overflow.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between {FIRST_YEAR} and {LAST_YEAR + 1}")
    return value


# Naive datetimes are refused: compared with the aware "now" they raise, and which zone they meant is a guess.
ShopDateTime = Annotated[AwareDatetime, AfterValidator(_shop_year)]
