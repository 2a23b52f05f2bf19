"""The layout held still: every text with its font size and box, every barcode with its place, per format.

A layout change that is meant shows up as a diff of tests/labels/golden_layout.json. To accept it, run
    REVERSO_UPDATE_GOLDEN=1 pytest tests/labels/test_golden.py
and review the JSON diff before committing it.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zplkit
import zxingcpp
from PIL import Image

from labels import LabelData, render_label
from tests.labels.test_zpl import fields

GOLDEN = Path(__file__).with_name("golden_layout.json")
DATA = LabelData(
    return_id="R-GOLDEN2345",
    tracking_number="LC123456789012",
    carrier="Reverso Local",
    shop_name="Loja São João",
    ship_from=["Łukasz Żółć", "ul. Piotrkowska 5", "90-001 Łódź", "PL"],
    ship_to=["Νίκος Παπαδόπουλος", "Οδός Αθηνάς 12", "105 51 Αθήνα", "GR"],
    created=datetime.date(2025, 1, 15),
    parcel=2,
    parcels=3,
)


def _codes(image: Image.Image, per_unit: float) -> list[dict[str, Any]]:
    found = []
    for b in zxingcpp.read_barcodes(image):
        p = b.position
        corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
        xs, ys = [c.x / per_unit for c in corners], [c.y / per_unit for c in corners]
        box = [round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))]
        found.append({"format": b.format.name, "text": b.text, "box": box})
    return sorted(found, key=lambda c: c["format"])


def pdf_layout(pdf: bytes) -> dict[str, Any]:
    page = pdfium.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    texts = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], textpage=textpage):
        left, bottom, right, top = obj.get_bounds()
        size = obj.get_font_size() * abs(obj.get_matrix().get()[0])
        texts.append(
            {
                "text": obj.extract(),
                "size": round(size, 1),
                "box": [round(left), round(bottom), round(right), round(top)],
            }
        )
    # Barcode boxes in points from the top-left corner, as zxing reports them.
    return {
        "size": [round(v) for v in page.get_size()],
        "texts": texts,
        "codes": _codes(page.render(scale=3).to_pil(), 3),
    }


def zpl_layout(zpl: bytes) -> dict[str, Any]:
    out = [{"commands": f.commands, "data": f.data} for f in fields(zpl)[1]]
    origins = [m.decode() for m in re.findall(rb"\^FO(\d+,\d+)", zpl)]
    scene = zplkit.render(zpl, zplkit.Options(profile="zd621", dpi=203)).labels[0]
    raster = scene.rasterize()
    image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
    bitmaps = [m.decode() for m in re.findall(rb"\^GFA,\d+,\d+,(\d+),", zpl)]  # a bitmap's width stands for it
    return {"fields": out, "origins": origins, "bitmap_row_bytes": bitmaps, "codes": _codes(image, 1)}


def layouts() -> dict[str, Any]:
    return {
        "pdf": pdf_layout(render_label(DATA, "pdf")),
        "a4": pdf_layout(render_label(DATA, "a4")),
        "zpl": zpl_layout(render_label(DATA, "zpl")),
    }


def test_layout_matches_the_committed_golden() -> None:
    got = layouts()
    if os.environ.get("REVERSO_UPDATE_GOLDEN") == "1":
        text = json.dumps(got, indent=1, ensure_ascii=False)
        # Number lists on one line, so a layout change reads as a short diff.
        text = re.sub(
            r"\[\s+([-\d.,\s]+?)\s+\]", lambda m: "[" + ", ".join(m[1].split()).replace(",,", ",") + "]", text
        )
        GOLDEN.write_text(text + "\n", encoding="utf-8")
    if not GOLDEN.exists():
        pytest.fail(f"{GOLDEN.name} is missing: run with REVERSO_UPDATE_GOLDEN=1 once and commit it")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for fmt in ("pdf", "a4", "zpl"):
        assert got[fmt] == want[fmt], fmt


def test_golden_holds_what_a_carrier_needs() -> None:
    """The committed file itself is checked, so an update cannot quietly drop a barcode or a name."""
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for fmt in ("pdf", "a4", "zpl"):
        codes = {(c["format"], c["text"]) for c in want[fmt]["codes"]}
        assert codes == {("Code128", DATA.tracking_number), ("QRCode", DATA.return_id)}, fmt
    for fmt in ("pdf", "a4"):
        texts = [t["text"] for t in want[fmt]["texts"]]
        for line in [*DATA.ship_from, *DATA.ship_to, DATA.return_id, "parcel 2/3"]:
            assert line in texts, (fmt, line)
        rma = next(t for t in want[fmt]["texts"] if t["text"] == DATA.return_id)
        height_mm = (rma["box"][3] - rma["box"][1]) / 72 * 25.4
        assert height_mm >= 6, f"{fmt}: the RMA is {height_mm:.1f} mm tall, too small to read from a metre"
