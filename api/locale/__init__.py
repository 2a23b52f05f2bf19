"""The pages' gettext catalogs, one folder per language: <locale>/LC_MESSAGES/messages.po and its compiled .mo.

Msgids are stable keys ("portal.title"); the English catalog (en) holds the English texts. `pybabel extract` finds
only keys written literally in code and templates, so babel.cfg also reads every msgid of the English catalog through
`catalog_keys` below: keys built at run time (t("staff.code." ~ code)) stay in the template and no `pybabel update`
marks them obsolete. A key leaves the catalogs when it is deleted from the English one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.pofile import read_po


def catalog_keys(
    fileobj: IO[bytes], keywords: Mapping[str, Any] | Collection[str], comment_tags: Collection[str], options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """A Babel extraction method: every msgid of a .po file, its text as the comment translators see beside it."""
    for message in read_po(fileobj):
        if message.id and isinstance(message.id, str):
            text = message.string if isinstance(message.string, str) else ""
            yield message.lineno or 0, None, message.id, [text] if text else []
