"""A return's timeline in words, as the API renders it from the entries' codes (api.timeline_words): for tests that
read the workflow's state or the read model's stored state, where entries are codes and parameters."""

from __future__ import annotations

from typing import Any

from api.views import return_view
from domain.models import ReturnState, TimelineEntry


def messages(state: ReturnState | dict[str, Any], staff: bool = True, lang: str = "en") -> list[str]:
    """Each entry's words for staff (or a shopper), in order."""
    return [t.message for t in return_view(state, staff=staff, lang=lang).timeline]


def said(state: ReturnState | dict[str, Any], entry: TimelineEntry | dict[str, Any], staff: bool = True,
         lang: str = "en") -> str:  # fmt: skip
    """One entry's words."""
    seq = entry.seq if isinstance(entry, TimelineEntry) else entry["seq"]
    return messages(state, staff, lang)[seq - 1]
