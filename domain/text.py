"""Constrained text: every string that comes from outside (JSON bodies, forms, paths, queries, the policy) is one
of these types, so it is checked once, at the edge, and bad input is a 422 naming the field.

PostgreSQL cannot store NUL in text or jsonb, and psycopg cannot encode a lone surrogate: either, reaching a
retried activity, used to be retried forever. Other control characters are refused too: nothing a shop sends
or a person types needs them, and they break labels, e-mail headers and logs. Notes may keep their newlines.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

# C0 and C1 controls, DEL, and the surrogate range (a JSON "\\ud800" decodes to a str UTF-8 cannot encode).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but tab, line feed and carriage return are allowed: notes and reasons are written in paragraphs.
_CONTROL_IN_NOTES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unstorable(value: str, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as text, or None when it may."""
    found = (_CONTROL_IN_NOTES if multiline else _CONTROL).search(value)
    if found is None:
        return None
    return f"control character U+{ord(found.group()):04X} at position {found.start()} is not allowed"


def _one_line(value: str) -> str:
    if why := unstorable(value):
        raise ValueError(why)
    return value


def _paragraphs(value: str) -> str:
    if why := unstorable(value, multiline=True):
        raise ValueError(why)
    return value


def line(max_length: int, min_length: int = 0) -> type[str]:
    """Single-line text of at most `max_length` characters: no control characters at all."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_one_line)]  # type: ignore[return-value]


def paragraphs(max_length: int, min_length: int = 0) -> type[str]:
    """Text that may span lines (tab, CR and LF allowed), of at most `max_length` characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_paragraphs)]  # type: ignore[return-value]


# The shared vocabulary: use these (or line()/paragraphs() for another length) in every model, form and parameter.
ShortText = line(200, min_length=1)  # names, titles, streets, order numbers
OptionalText = line(200)  # the same, may be empty
Identifier = line(100, min_length=1)  # SKUs, line ids, tags, categories, warehouse ids
ReturnId = line(64, min_length=1)  # a return id in a path (R- and 10 characters today)
Search = line(254)  # ?q= and ?code= boxes: an e-mail address at most
Note = paragraphs(1000)  # staff notes and reasons
RequiredNote = paragraphs(1000, min_length=1)
