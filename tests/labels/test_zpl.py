"""The ZPL II label: rendered offline by zplkit and scanned, and read command by command."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import zplkit
import zxingcpp
from PIL import Image
from zplkit.parse import parse

from labels.zpl import render_zpl
from tests.labels.test_pdf import label

POLISH = ["Łukasz Żółć", "ul. Piotrkowska 5", "90-001 Łódź", "PL"]
GREEK = ["Νίκος Παπαδόπουλος", "Οδός Αθηνάς 12", "105 51 Αθήνα", "GR"]


@dataclass
class Field:
    commands: list[str] = field(default_factory=list)  # e.g. ["FO", "A0", "FH", "FD"]
    data: str = ""  # ^FD text with ^FH hex escapes decoded, as UTF-8


def fields(zpl: bytes) -> tuple[list[str], list[Field]]:
    """Every command name in order, and the fields (^FO ... ^FS) with their decoded data."""
    names: list[str] = []
    out: list[Field] = []
    current = Field()
    hex_escape = False
    for element in parse(zpl).elements:
        raw = element.data.rstrip(b"\r\n")
        if element.kind != "format_command":
            continue
        name, args = raw[1:3].decode(), raw[3:]
        names.append(name)
        current.commands.append(name)
        if name == "FH":
            hex_escape = True
        elif name in ("FD", "FX"):
            if hex_escape:
                args = re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), args)
            current.data = args.decode()
        elif name == "FS":
            out.append(current)
            current, hex_escape = Field(), False
    return names, out


def scan(zpl: bytes) -> set[tuple[zxingcpp.BarcodeFormat, str]]:
    document = zplkit.render(zpl, zplkit.Options(profile="zd621", dpi=203))
    (scene,) = document.labels
    assert (scene.width, scene.height) == (812, 1218)  # 4 x 6 inches at 203 dpi
    raster = scene.rasterize()
    image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
    return {(b.format, b.text) for b in zxingcpp.read_barcodes(image)}


@pytest.mark.parametrize(
    "tracking", ["LOC1Z999AA10123456784", "00340434161094042587", "1Z(99)/A-b c\\9", "A^B~C_D>1<2"]
)
def test_rendered_zpl_scans_to_the_tracking_number_and_the_return_id(tracking: str) -> None:
    data = label(tracking_number=tracking, ship_from=POLISH, ship_to=GREEK)
    assert scan(render_zpl(data)) == {
        (zxingcpp.BarcodeFormat.Code128, tracking),
        (zxingcpp.BarcodeFormat.QRCode, data.return_id),
    }


def test_commands_carry_the_numbers_utf8_and_the_parcel_count() -> None:
    data = label(tracking_number="1Z^99~_X", ship_from=POLISH, ship_to=GREEK, parcel=2, parcels=3)
    names, found = fields(render_zpl(data))
    assert names[:2] == ["XA", "CI"] and names[-1] == "XZ"
    assert b"^CI28" in render_zpl(data)  # UTF-8 field data
    code128 = [f for f in found if "BC" in f.commands]
    qr = [f for f in found if "BQ" in f.commands]
    assert [f.data for f in code128] == ["1Z^99~_X"]  # ">" would be doubled: "><" is a literal ">"
    assert [f.data for f in qr] == [f"MA,{data.return_id}"]  # error correction M, automatic mode
    texts = [f.data for f in found if "A0" in f.commands or "FX" in f.commands]
    for expected in [data.return_id, "RETURN", "LOCAL", "parcel 2/3", "1Z^99~_X", *POLISH, *GREEK]:
        assert any(expected in t for t in texts), expected
    # Each line outside ASCII is a bitmap drawn from DejaVu, named by a ^FX comment in exact Unicode.
    bitmaps = [f for f in found if "GF" in f.commands]
    assert len(bitmaps) == len(POLISH) + len(GREEK)


def test_ascii_only_labels_print_text_fields_and_no_bitmaps() -> None:
    data = label(ship_from=["Ana Sousa", "Rua 28", "4050-262 Porto", "PT"], shop_name="Shop")
    names, found = fields(render_zpl(data))
    assert "GF" not in names
    assert "parcel 1/1" in [f.data for f in found]


def test_same_input_same_bytes() -> None:
    assert render_zpl(label(ship_to=GREEK)) == render_zpl(label(ship_to=GREEK))
    assert render_zpl(label()) != render_zpl(label(parcel=1, parcels=2))
