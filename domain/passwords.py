"""A staff account's password, checked once at the edge (the set-password and reset forms) like domain.text's types.

Length is counted in characters as typed: at least 12, so a guess per lockout window is hopeless, and at most 256, so
hashing one costs a bounded time. A password of one repeated character is refused; nothing else is asked of it
(no composition rules: they push people to predictable patterns). Control characters are refused: no keyboard makes
them, and a lone surrogate cannot be encoded to be hashed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from domain.text import unstorable

MIN_LENGTH = 12
MAX_LENGTH = 256


def _password(value: str) -> str:
    if why := unstorable(value):
        raise ValueError(why)
    if len(set(value)) == 1:
        raise ValueError("a password may not be one character repeated")
    return value


Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH), AfterValidator(_password)]
