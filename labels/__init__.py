"""Label rendering: bytes in, bytes out (PDF 4x6, PDF on a quarter of A4, ZPL II for thermal printers)."""

from typing import Literal

from labels.pdf import LabelData, render_return_label
from labels.zpl import render_zpl

Format = Literal["pdf", "a4", "zpl"]
MEDIA_TYPES: dict[str, str] = {"pdf": "application/pdf", "a4": "application/pdf", "zpl": "application/zpl"}


def render_label(data: LabelData, fmt: Format = "pdf") -> bytes:
    if fmt == "zpl":
        return render_zpl(data)
    return render_return_label(data, "a4" if fmt == "a4" else "4x6")


__all__ = ["MEDIA_TYPES", "Format", "LabelData", "render_label", "render_return_label", "render_zpl"]
