"""The return label as a PDF, 4x6 inch or on a quarter of an A4 sheet: a pure function, data in, bytes out."""

from __future__ import annotations

import datetime
import io
import itertools
import re
from typing import Literal

import zxingcpp
from pydantic import BaseModel, Field, model_validator
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from labels import fonts

WIDTH, HEIGHT = 4 * inch, 6 * inch
MARGIN = 10.0
INNER = WIDTH - 2 * MARGIN
QR = 48.0  # side of the QR code, in points
A4_GAP = 8.0  # points between the label's frame and the cut lines of its A4 quarter
fonts.register()
Page = Literal["4x6", "a4"]


class LabelData(BaseModel):
    return_id: str = Field(min_length=1)
    # Code128 silently drops characters outside ASCII, so the bars would not match the number.
    tracking_number: str = Field(pattern=r"^[\x20-\x7e]+$")
    carrier: str
    shop_name: str
    ship_from: list[str] = Field(min_length=1)
    ship_to: list[str] = Field(min_length=1)
    created: datetime.date
    parcel: int = Field(1, ge=1)
    parcels: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _parcel_within_count(self) -> LabelData:
        if self.parcel > self.parcels:
            raise ValueError(f"parcel {self.parcel} of {self.parcels}")
        return self


def _safe(text: str) -> str:
    # PDF string delimiters such as "(" and "\\" need nothing here: ReportLab escapes them when it writes.
    return fonts.printable(text)


def _fit(text: str, font: str, size: float, width: float, floor: float = 0.7) -> tuple[str, float]:
    """Shrink down to `floor` x size, then cut with '...': long input must never run off the label."""
    text = _safe(text)
    natural = stringWidth(text, font, size)
    if natural > width:
        size = max(size * floor, size * width / natural * 0.995)
    while len(text) > 3 and stringWidth(text, font, size) > width:
        text = text[:-4].rstrip() + "..."
    return text, size


def _line(
    c: Canvas, x: float, y: float, text: str, font: str, size: float, width: float = INNER, floor: float = 0.7
) -> None:
    text, size = _fit(text, font, size, width, floor)
    c.setFont(font, size)
    c.drawString(x, y, text)


def _rule(c: Canvas, y: float, weight: float = 1.5) -> None:
    c.setLineWidth(weight)
    c.line(MARGIN - 4, y, WIDTH - MARGIN + 4, y)


def _address(c: Canvas, f: fonts.Faces, top: float, label: str, lines: list[str], size: float, max_lines: int) -> None:
    c.setFont(f.bold, 8)
    c.drawString(MARGIN, top - 8, label)
    shown = lines[:max_lines]
    if len(lines) > max_lines:  # keep the country, which is the line a sorter needs most
        shown = lines[: max_lines - 1] + lines[-1:]
    faces = [f.bold if i == 0 else f.regular for i in range(len(shown))]
    # One size for the whole block, set by its longest line, so the address reads as one unit.
    size = min(_fit(t, face, size, INNER - 26)[1] for t, face in zip(shown, faces, strict=True))
    y = top - 8 - size * 1.35
    for text, font in zip(shown, faces, strict=True):
        _line(c, MARGIN + 26, y, text, font, size, INNER - 26)
        y -= size * 1.15


def _barcode(c: Canvas, f: fonts.Faces, top: float, value: str, height: float) -> None:
    modules = Code128(value, barWidth=1, quiet=0).width
    # Widest whole-label fit, capped so short numbers stay proportionate; the 10-module quiet
    # zones each side are part of the budget because scanners need them blank.
    bar = min(2.2, INNER / (modules + 20))
    quiet = 10 * bar
    code = Code128(value, barWidth=bar, barHeight=height, quiet=1, lquiet=quiet, rquiet=quiet)
    code.drawOn(c, (WIDTH - code.width) / 2, top - height)
    text, size = _fit(value, f.bold, 12, INNER, floor=0)
    c.setFont(f.bold, size)
    c.drawCentredString(WIDTH / 2, top - height - 14, text)


def _qr_code(value: str) -> zxingcpp.Barcode:
    # zxing-cpp's encoder (C++) rather than a pure-Python one: choosing the mask took most of a label's time.
    return zxingcpp.create_barcode(value, zxingcpp.BarcodeFormat.QRCode, ec_level="M")


def _qr(c: Canvas, x: float, y: float, value: str) -> None:
    """The QR as one filled path of dark runs, with one module of quiet border each side."""
    image = zxingcpp.write_barcode_to_image(_qr_code(value), scale=1, add_quiet_zones=False)
    size = image.shape[0]
    # One byte a module, row by row: 0 is dark.
    pixels = bytes(image)  # type: ignore[call-overload]  # stub lacks Image's buffer protocol
    box = QR / (size + 2)
    path = c.beginPath()
    for r in range(size):
        col = 0
        for dark, run in itertools.groupby(pixels[r * size : (r + 1) * size], key=lambda px: px == 0):
            n = len(list(run))
            if dark:
                path.rect(x + (col + 1) * box, y + QR - (r + 2) * box, n * box, box)
            col += n
    c.drawPath(path, stroke=0, fill=1)


def qr_svg(value: str, side: float = 200) -> bytes:
    """The same QR code as on the label, as SVG for a screen (the portal shows it at drop-off), about `side`
    pixels wide with the standard quiet zone."""
    code = _qr_code(value)
    modules = zxingcpp.write_barcode_to_image(code, scale=1, add_quiet_zones=True).shape[0]
    svg = zxingcpp.write_barcode_to_svg(code, scale=max(1, round(side / modules)))
    # A viewBox lets a page draw it at any size (the portal shows it smaller); zxing writes none.
    return re.sub(
        r'<svg width="(\d+)" height="(\d+)"', r'<svg width="\1" height="\2" viewBox="0 0 \1 \2"', svg, count=1
    ).encode()


def _draw(c: Canvas, data: LabelData) -> None:
    """The label in its own 4x6 inch coordinates, whatever page it lands on."""
    f = fonts.faces_for([data.carrier, data.shop_name, data.return_id, *data.ship_from, *data.ship_to])
    c.setLineWidth(1.5)
    c.rect(MARGIN - 4, MARGIN - 4, WIDTH - 2 * MARGIN + 8, HEIGHT - 2 * MARGIN + 8)

    # Header: inverted band, so carrier and "RETURN" read at arm's length on a sorting belt.
    top = HEIGHT - MARGIN + 4
    c.rect(MARGIN - 4, top - 40, WIDTH - 2 * MARGIN + 8, 40, stroke=0, fill=1)
    c.setFillGray(1)
    _line(c, MARGIN + 2, top - 27, data.carrier.upper(), f.bold, 18, INNER * 0.55)
    c.setFont(f.bold, 22)
    c.drawRightString(WIDTH - MARGIN - 2, top - 28, "RETURN")
    c.setFillGray(0)
    _line(c, MARGIN, top - 55, f"Return to {data.shop_name}", f.bold, 10)
    _rule(c, top - 62)

    _address(c, f, top - 66, "FROM", data.ship_from, 8, 4)
    _rule(c, top - 120, 0.75)
    _address(c, f, top - 126, "TO", data.ship_to, 13, 5)
    _rule(c, top - 220)

    _barcode(c, f, top - 228, data.tracking_number, 76)
    _rule(c, top - 330)

    c.setFont(f.bold, 8)
    c.drawString(MARGIN, top - 342, "RMA")
    # Staff type the RMA into the console: it may shrink but is never cut. 28 pt caps are about 7 mm
    # tall, readable from a metre away.
    _line(c, MARGIN, top - 372, data.return_id, f.bold, 28, width=INNER - QR - 6, floor=0)
    # The same id as a QR code: drop-off points scan it from a phone without a printed label.
    _qr(c, WIDTH - MARGIN - QR, top - 381, data.return_id)
    _rule(c, top - 384)

    c.setFont(f.regular, 9)
    c.drawString(MARGIN, MARGIN + 8, data.created.isoformat())
    c.setFont(f.bold, 11)
    c.drawRightString(WIDTH - MARGIN, MARGIN + 8, f"parcel {data.parcel}/{data.parcels}")


def _a4_quarter(c: Canvas, data: LabelData) -> None:
    """Top-left quarter of a portrait A4 sheet, for office printers: scaled to fit with a margin, and
    dashed cut lines along the quarter's inner edges. The rest of the sheet stays blank for reuse."""
    qw, qh = A4[0] / 2, A4[1] / 2
    scale = min((qw - 2 * A4_GAP) / WIDTH, (qh - 2 * A4_GAP) / HEIGHT)
    c.saveState()
    c.translate((qw - WIDTH * scale) / 2, qh + (qh - HEIGHT * scale) / 2)
    c.scale(scale, scale)
    _draw(c, data)
    c.restoreState()
    c.setLineWidth(0.5)
    c.setDash(4, 3)
    c.line(qw, A4[1], qw, qh)
    c.line(0, qh, qw, qh)


def render_return_label(data: LabelData, page: Page = "4x6") -> bytes:
    """One page, 4x6 (thermal printers) or A4 (office printers). `invariant=1` pins dates and document
    ids, so equal input gives equal bytes."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4 if page == "a4" else (WIDTH, HEIGHT), invariant=1, pageCompression=1)
    c.setTitle(_safe(f"Return label {data.return_id}"))
    if page == "a4":
        _a4_quarter(c, data)
    else:
        _draw(c, data)
    c.showPage()
    c.save()
    return buf.getvalue()
