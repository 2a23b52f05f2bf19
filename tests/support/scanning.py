"""Reading a label's barcodes as it is printed: at the printer's resolution, and only at that resolution."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp

THERMAL_DPI, OFFICE_DPI = 203, 300


def page_codes(page: pdfium.PdfPage) -> list[zxingcpp.Barcode]:
    """A 4x6 page as a 203 dpi thermal printer prints it, an A4 page as a 300 dpi office printer does.

    No downscaled second pass: on about one label in a thousand, zxing-cpp's half-resolution copy (where
    thin bars blur together) gave a second, wrong Code128 beside the right one read at full resolution."""
    width, _ = page.get_size()
    dpi = THERMAL_DPI if width < 300 else OFFICE_DPI
    return zxingcpp.read_barcodes(page.render(scale=dpi / 72).to_pil(), try_downscale=False)
