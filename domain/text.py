"""Constrained text: every string that comes from outside (JSON bodies, forms, paths, queries, the policy) is one
of these types, so it is checked once, at the edge, and bad input is a 422 naming the field.

PostgreSQL cannot store NUL in text or jsonb, and psycopg cannot encode a lone surrogate: either, reaching a
retried activity, used to be retried forever. Other control characters are refused too: nothing a shop sends
or a person types needs them, and they break labels, e-mail headers and logs. Notes may keep their newlines.
"""

from __future__ import annotations

import re
import sys
from typing import Annotated, Any, TypeVar

import email_validator
import idna.uts46data
import pydantic_core
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticSerializationError

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


def shown(value: str) -> str:
    """`value` with each control character replaced by U+FFFD: a refused value shown back to whoever typed it."""
    return _CONTROL.sub("\ufffd", value)


def _one_line(value: str) -> str:
    if why := unstorable(value):
        raise ValueError(why)
    return value


def _paragraphs(value: str) -> str:
    if why := unstorable(value, multiline=True):
        raise ValueError(why)
    return value


# Markers for a field's Annotated type, beside its Field(max_length=...): OneLine for names, codes and ids,
# Paragraphs for notes. The aliases below are written out, not built by line(), so that mypy takes them as types.
OneLine = AfterValidator(_one_line)
Paragraphs = AfterValidator(_paragraphs)


def line(max_length: int, min_length: int = 0) -> type[str]:
    """Single-line text of at most `max_length` characters: no control characters at all."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), OneLine]  # type: ignore[return-value]  # a typing form, used as a type


def paragraphs(max_length: int, min_length: int = 0) -> type[str]:
    """Text that may span lines (tab, CR and LF allowed), of at most `max_length` characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), Paragraphs]  # type: ignore[return-value]  # a typing form, used as a type


# validate_email imports its package's defaults at every call ("from . import ..."), and idna its tables at the
# first remap. Inside Temporal's workflow sandbox (an order in an activity's result is validated there), which keeps
# modules of its own, each import would load both packages again for every workflow, tables and all; so the
# sandbox's modules are given the ones loaded here, as an import passed through to the sandbox would be. Outside a
# sandbox this changes nothing: they are already in sys.modules.
_LOADED = {m.__name__: m for m in (email_validator, idna, idna.uts46data)}


def _email(value: str) -> str:
    for name, module in _LOADED.items():
        sys.modules.setdefault(name, module)
    address = value.strip()
    try:
        # Syntax only: a DNS look-up per order would make order ingest depend on the network.
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as e:
        raise ValueError(str(e)) from None
    return address.lower()


# The shared vocabulary: use these (or line()/paragraphs() for another length) in every model, form and parameter.
ShortText = Annotated[str, Field(min_length=1, max_length=200), OneLine]  # names, titles, streets, order numbers
OptionalText = Annotated[str, Field(max_length=200), OneLine]  # the same, may be empty
# SKUs, line ids, tags, categories, reason codes, warehouse ids
Identifier = Annotated[str, Field(min_length=1, max_length=100), OneLine]
ReturnId = Annotated[str, Field(min_length=1, max_length=64), OneLine]  # a return id in a path (R- and 10 today)
Search = Annotated[str, Field(max_length=254), OneLine]  # ?q= and ?code= boxes: an e-mail address at most
Note = Annotated[str, Field(max_length=1000), Paragraphs]  # staff notes and reasons
RequiredNote = Annotated[str, Field(min_length=1, max_length=1000), Paragraphs]
# One address, as a shop's order carries it (a list, a display name or a quoted local part is refused), lower-cased
# as the portal compares it. Lengths are RFC 5321's.
Email = Annotated[str, Field(min_length=3, max_length=254), OneLine, AfterValidator(_email)]


_IMAGE_URL = re.compile(r"""https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s"'<>\\]*)?""")


def _image_url(value: str) -> str:
    # Shown as <img src>: only http(s) with a host, and nothing that would end the attribute or hide a space.
    if not _IMAGE_URL.fullmatch(value):
        raise ValueError("must be an http or https URL of an image")
    return value


# A product picture's address (the shop's CDN); the browser loads it when its origin is in REVERSO_BRAND__IMAGE_ORIGINS.
ImageUrl = Annotated[str, Field(max_length=2000), OneLine, AfterValidator(_image_url)]
OptionName = Annotated[str, Field(min_length=1, max_length=40), OneLine]  # "size", "colour"
# A variant's options, for example {"size": "M", "colour": "blue"}: what tells it from its product's other variants.
Options = Annotated[dict[OptionName, ShortText], Field(max_length=10)]


# What PostgreSQL cannot store in text or jsonb (NUL) and UTF-8 cannot encode (a lone surrogate): the backstop for a
# value that got past the edge anyway. Other control characters are stored fine, so they are left as they are.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
T = TypeVar("T")


def scrub(value: T, path: str = "") -> tuple[T, list[str]]:
    """`value` with every character the database cannot store replaced by U+FFFD (models, lists and dicts are changed
    in place), and the paths of the strings that held one, e.g. `lines[0].note`. Pure: workflows call it."""
    if _storable_as_is(value):
        return value, []
    found: list[str] = []

    def clean(v: Any, where: str) -> Any:
        if isinstance(v, str):
            if _UNSTORABLE.search(v) is None:
                return v
            found.append(where)
            return _UNSTORABLE.sub("\ufffd", v)
        if isinstance(v, BaseModel):
            for name in type(v).model_fields:
                old = getattr(v, name)
                new = clean(old, f"{where}.{name}" if where else name)
                if new is not old:
                    setattr(v, name, new)
        elif isinstance(v, list):
            for i, item in enumerate(v):
                v[i] = clean(item, f"{where}[{i}]")
        elif isinstance(v, dict):
            for key in list(v):  # each key is taken out and put back in turn, so the order stays
                item, at = v.pop(key), f"{where}.{key}" if where else str(key)
                v[clean(key, at) if isinstance(key, str) else key] = clean(item, at)
        return v

    return clean(value, path), found


def _storable_as_is(value: object) -> bool:
    """The common case, cheaply: serialized in one pass of pydantic-core, a NUL shows as an escape and a lone
    surrogate cannot be encoded at all (workflows scrub every state they project; walking it was three times slower).
    A false alarm (a typed backslash-u0000) only costs the walk."""
    try:
        return b"\\u0000" not in pydantic_core.to_json(value)
    except PydanticSerializationError:
        return False
