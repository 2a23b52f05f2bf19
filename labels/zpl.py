"""The 4x6 inch return label as ZPL II for direct thermal printers at 203 dpi: data in, bytes out.

Text that is plain ASCII is a printer text field (resident scalable font 0, `^CI28` UTF-8). Text with any
other character is drawn as a bitmap (`^GF`) from the same DejaVu Sans as the PDF: which glyphs font 0
holds differs by model and firmware, and downloading a TrueType font (`~DU`, ~700 kB) for each label
is not practical, so a bitmap is the one way "Łódź" or "Αθήνα" prints correctly on every ZPL II printer.
A `^FX` comment before each bitmap keeps the original text readable in the ZPL source.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfbase.pdfmetrics import stringWidth

from labels import fonts
from labels.pdf import LabelData

DPI = 203
WIDTH, HEIGHT = 812, 1218  # 4 x 6 inches in dots
MARGIN = 30
INNER = WIDTH - 2 * MARGIN
Align = Literal["left", "right", "center"]
QR_MAG = 6  # dots per QR module: 0.75 mm, well above what a phone or a hand scanner needs


@functools.cache
def _face(bold: bool, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(fonts.FILES[fonts.BOLD if bold else fonts.REGULAR]), px)


def _field_data(text: str) -> str:
    """`^FH_` field data: the ZPL command characters and the escape itself as hex bytes."""
    out = []
    for byte in text.encode():
        ch = chr(byte)
        out.append(f"_{byte:02X}" if ch in "^~_" or byte < 0x20 or byte > 0x7E else ch)
    return "^FH_^FD" + "".join(out) + "^FS"


def _comment(text: str) -> str:
    return "^FX" + text.replace("^", " ").replace("~", " ") + "^FS"


class _Label:
    def __init__(self) -> None:
        self.out: list[str] = []

    def add(self, *commands: str) -> None:
        self.out.extend(commands)

    def box(self, x: int, y: int, w: int, h: int, t: int) -> None:
        self.add(f"^FO{x},{y}^GB{w},{h},{t}^FS")

    def rule(self, y: int, t: int = 4) -> None:
        self.box(MARGIN - 10, y, INNER + 20, t, t)

    def text(
        self, x: int, y: int, text: str, px: int, bold: bool = True, width: int = INNER, floor: float = 0.7,
        align: Align = "left", reverse: bool = False, bitmap: bool = False,
    ) -> None:  # fmt: skip
        """One line whose top is at y, shrunk down to `floor` x px and then cut with '...' to fit."""
        text = fonts.printable(text)
        if not text:
            return
        if text.isascii() and not bitmap:
            self._font0(x, y, text, px, width, floor, align, reverse)
        else:
            self._bitmap(x, y, text, px, bold, width, floor, align, reverse)

    def _font0(self, x: int, y: int, text: str, px: int, width: int, floor: float, align: Align, reverse: bool) -> None:
        # Font 0 is a condensed face; Helvetica-Bold's metrics are wider, so fitting by them never overflows.
        def measure(t: str, size: float) -> float:
            return stringWidth(t, "Helvetica-Bold", size)

        text, size = _fit(text, px, width, floor, measure)
        x = _aligned(x, width, math.ceil(measure(text, size)), align)
        fr = "^FR" if reverse else ""
        self.add(f"^FO{x},{y}{fr}^A0N,{size},{size}" + _field_data(text))

    def _bitmap(
        self, x: int, y: int, text: str, px: int, bold: bool, width: int, floor: float, align: Align, reverse: bool
    ) -> None:
        def measure(t: str, size: float) -> float:
            return _face(bold, round(size)).getlength(t)

        text, size = _fit(text, px, width, floor, measure)
        face = _face(bold, size)
        _, _, r, bottom = face.getbbox(text)
        w, h = max(1, math.ceil(r)), max(1, math.ceil(bottom))
        image = Image.new("1", (w, h), 0)
        draw = ImageDraw.Draw(image)
        draw.fontmode = "1"  # no anti-aliasing: a thermal head prints dots, not greys
        draw.text((0, 0), text, font=face, fill=1)
        row = (w + 7) // 8
        data = image.tobytes().hex().upper()  # mode "1" packs 8 dots a byte, 1 = ink, as ^GF wants
        x = _aligned(x, width, w, align)
        fr = "^FR" if reverse else ""
        self.add(_comment(text), f"^FO{x},{y}{fr}^GFA,{row * h},{row * h},{row},{data}^FS")


def _aligned(x: int, width: int, w: int, align: Align) -> int:
    return {"left": x, "right": x + width - w, "center": x + (width - w) // 2}[align]


def _fit(text: str, px: int, width: int, floor: float, measure: Callable[[str, float], float]) -> tuple[str, int]:
    size = float(px)
    natural = measure(text, size)
    if natural > width:
        size = max(px * floor, px * width / natural * 0.98)
    size = math.floor(size)
    while len(text) > 3 and measure(text, size) > width:
        text = text[:-4].rstrip() + "..."
    return text, size


def _address(lb: _Label, top: int, title: str, lines: list[str], px: int, max_lines: int) -> None:
    lb.text(MARGIN, top, title, 22)
    shown = lines[:max_lines]
    if len(lines) > max_lines:  # keep the country, which is the line a sorter needs most
        shown = lines[: max_lines - 1] + lines[-1:]
    # One look per block: if any line needs a bitmap, all of them are bitmaps.
    bitmap = not all(fonts.printable(line).isascii() for line in shown)
    y = top + 26
    for i, line in enumerate(shown):
        lb.text(MARGIN + 70, y, line, px, bold=i == 0, width=INNER - 70, bitmap=bitmap)
        y += round(px * 1.2)


def _barcode(lb: _Label, top: int, value: str, height: int) -> None:
    if ">" in value:
        # ">" starts an invocation code in ^BC data, even in automatic mode; in subset B (start ">:")
        # the invocations ">0", "><" and ">=" are the characters ">", "^" and "~".
        data, mode = ">:" + "".join({">": ">0", "^": "><", "~": ">="}.get(ch, ch) for ch in value), "N"
        modules = 11 * (len(value) + 2) + 13  # start, characters, check, stop
    else:
        # Automatic mode packs digit runs into subset C (shorter code, wider bars); ReportLab's encoder
        # picks subsets the same way, so its width centres the bars.
        data, mode = value, "A"
        modules = Code128(value, barWidth=1, quiet=0).width
    # The widest whole-dot module (0.375 mm at most) that keeps the 10-module quiet zones on the label.
    module = max(1, min(3, int(INNER // (modules + 20))))
    x = (WIDTH - round(modules * module)) // 2
    lb.add(f"^FO{x},{top}^BY{module}^BCN,{height},N,N,N,{mode}" + _field_data(data))
    lb.text(MARGIN, top + height + 10, value, 34, width=INNER, floor=0.4, align="center")


def render_zpl(data: LabelData) -> bytes:
    """One label, UTF-8 ZPL II. Equal input gives equal bytes."""
    lb = _Label()
    lb.add("^XA", "^CI28", f"^PW{WIDTH}", f"^LL{HEIGHT}", "^LH0,0", "^PON")
    lb.box(MARGIN - 10, MARGIN - 10, INNER + 20, HEIGHT - 2 * MARGIN + 20, 4)

    # Header: inverted band, as on the PDF, so carrier and "RETURN" read at arm's length.
    lb.box(MARGIN - 10, MARGIN - 10, INNER + 20, 110, 110)
    lb.text(MARGIN + 6, MARGIN + 22, data.carrier.upper(), 48, width=int(INNER * 0.55), reverse=True)
    lb.text(MARGIN, MARGIN + 14, "RETURN", 64, align="right", width=INNER - 6, reverse=True)
    lb.text(MARGIN, MARGIN + 116, f"Return to {data.shop_name}", 28)
    lb.rule(MARGIN + 156)

    _address(lb, MARGIN + 170, "FROM", data.ship_from, 24, 4)
    lb.rule(MARGIN + 320, 2)
    _address(lb, MARGIN + 334, "TO", data.ship_to, 38, 5)
    lb.rule(MARGIN + 600)

    _barcode(lb, MARGIN + 624, data.tracking_number, 200)
    lb.rule(MARGIN + 900)

    qr_side = 220
    lb.text(MARGIN, MARGIN + 916, "RMA", 22)
    # Staff type the RMA into the console: it may shrink but is never cut; 80 dots is 10 mm tall.
    lb.text(MARGIN, MARGIN + 960, data.return_id, 80, width=INNER - qr_side - 10, floor=0.3)
    # ^BQ puts its own 10-dot offset above the symbol; "MA," is error correction M, automatic mode.
    lb.add(f"^FO{WIDTH - MARGIN - qr_side + 10},{MARGIN + 900}^BQN,2,{QR_MAG}" + _field_data("MA," + data.return_id))
    lb.rule(MARGIN + 1110)

    lb.text(MARGIN, MARGIN + 1122, data.created.isoformat(), 26, bold=False)
    lb.text(MARGIN, MARGIN + 1118, f"parcel {data.parcel}/{data.parcels}", 34, align="right")
    lb.add("^XZ")
    return ("\n".join(lb.out) + "\n").encode()
