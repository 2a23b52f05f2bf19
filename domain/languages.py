"""The languages Reverso speaks to shoppers: one per gettext catalog in api/locale (words/catalogs.py finds them;
tests/i18n checks that this list names the same). An order's and a return's `locale` is one of these tags."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

# Page language (as in ?lang=) -> its BCP 47 tag, as an order's `locale` is written and stored.
TAGS: dict[str, str] = {"en": "en", "pt": "pt-PT"}


def language_tag(value: str) -> str:
    """ "pt-PT", "pt_pt" or "pt" -> "pt-PT"; anything without a catalog (fr, pt-BR) is refused."""
    wanted = value.strip().replace("_", "-").lower()
    for lang, tag in TAGS.items():
        if wanted in (lang, tag.lower()):
            return tag
    raise ValueError(f"unsupported language {value!r}; use one of {', '.join(TAGS.values())}")


def lang_of(tag: str | None) -> str:
    """A tag's page language ("pt-PT" -> "pt"); "" when none is known."""
    return (tag or "").split("-")[0].lower() if (tag or "").split("-")[0].lower() in TAGS else ""


LanguageTag = Annotated[str, Field(min_length=2, max_length=20), AfterValidator(language_tag)]
