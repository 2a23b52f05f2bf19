"""DejaVu Sans, shipped beside this module, so names in any European script print as written.

The PDF built-in fonts cover Latin-1 only ("Łódź" and "Αθήνα" would not print). DejaVu Sans covers
Latin, Greek and Cyrillic. No maintained PyPI package ships the static DejaVu files without pulling in a
large unrelated dependency, so the two unmodified 2.37 files are vendored with their licence
(DejaVuSans-LICENSE.txt, Bitstream Vera terms: free to redistribute unmodified).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

HERE = Path(__file__).resolve().parent
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
FILES = {REGULAR: HERE / "DejaVuSans.ttf", BOLD: HERE / "DejaVuSans-Bold.ttf"}


class Faces(NamedTuple):
    regular: str
    bold: str


# PDF viewers and printers carry Helvetica: nothing to embed, about half of a label's time saved.
BUILTIN = Faces("Helvetica", "Helvetica-Bold")
EMBEDDED = Faces(REGULAR, BOLD)


def faces_for(texts: Iterable[str]) -> Faces:
    """Helvetica when every character is in its WinAnsi (cp1252) encoding, as most labels are; DejaVu otherwise."""
    try:
        "".join(printable(t) for t in texts).encode("cp1252")
    except UnicodeEncodeError:
        return EMBEDDED
    return BUILTIN


@functools.cache
def register() -> tuple[str, str]:
    """Register both faces with ReportLab once per process; returns (regular, bold) names."""
    for name, path in FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return REGULAR, BOLD


@functools.cache
def _covered() -> frozenset[int]:
    register()
    regular = pdfmetrics.getFont(REGULAR).face.charToGlyph
    bold = pdfmetrics.getFont(BOLD).face.charToGlyph
    return frozenset(regular.keys() & bold.keys())


def printable(text: str) -> str:
    """Text both faces can draw: NFC (a decomposed "São" prints as "São"), whitespace as one space,
    control characters dropped, and anything the font lacks (CJK, emoji) as '?' rather than a blank box."""
    covered = _covered()
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in "\t\r\n":
            out.append(" ")
        elif unicodedata.category(ch).startswith("C"):
            continue
        else:
            out.append(ch if ord(ch) in covered else "?")
    return "".join(out).strip()
