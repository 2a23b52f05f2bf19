"""DejaVu Sans, shipped beside this module, so names in any European script print as written.

The PDF built-in fonts cover Latin-1 only ("Łódź" and "Αθήνα" would not print). DejaVu Sans covers
Latin, Greek and Cyrillic. No maintained PyPI package ships the static DejaVu files without pulling in a
large unrelated dependency, so the two unmodified 2.37 files are vendored with their licence
(DejaVuSans-LICENSE.txt, Bitstream Vera terms: free to redistribute unmodified).
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

HERE = Path(__file__).resolve().parent
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
FILES = {REGULAR: HERE / "DejaVuSans.ttf", BOLD: HERE / "DejaVuSans-Bold.ttf"}


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
