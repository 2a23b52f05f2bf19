"""api.photos.clean: what a phone's photo keeps (its pixels, upright) and loses (EXIF, GPS, XMP) in each format
the warehouse may send, and what it refuses. Pure: no database, no server."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from api.photos import MAX_BYTES, clean
from api.services.errors import ServiceError


def phone_photo(kind: str, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = orientation
    exif.get_ifd(0x8825).update({1: "N", 2: (41.0, 9.0, 0.0), 3: "W", 4: (8.0, 36.0, 0.0)})
    out = io.BytesIO()
    extra = {"xmp": b"<x:xmpmeta>PhoneMaker GPS</x:xmpmeta>"} if kind in ("JPEG", "WEBP") else {}
    Image.new("RGB", (60, 20), (200, 30, 30)).save(out, kind, exif=exif.tobytes(), **extra)
    assert b"PhoneMaker" in out.getvalue()
    return out.getvalue()


@pytest.mark.parametrize("kind,content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_metadata_is_gone_and_the_picture_stays(kind: str, content_type: str) -> None:
    data, got_type = clean(phone_photo(kind))
    assert got_type == content_type and b"PhoneMaker" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == kind and im.size == (60, 20)
        assert len(im.getexif()) == 0 and not {"exif", "xmp", "XML:com.adobe.xmp"} & set(im.info)


def test_a_photo_taken_sideways_is_stored_upright() -> None:
    data, _ = clean(phone_photo("JPEG", orientation=6))  # rotate 90 degrees to show it
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (20, 60)


@pytest.mark.parametrize("data", [b"", b"GIF89a....", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"<svg/>"])
def test_anything_else_is_refused_naming_the_field(data: bytes) -> None:
    with pytest.raises(ServiceError) as refused:
        clean(data, "lines[0].photos")
    assert refused.value.status == 422 and refused.value.text.startswith("lines[0].photos:")


def test_more_than_5_mib_is_413() -> None:
    with pytest.raises(ServiceError) as refused:
        clean(phone_photo("PNG") + b"\0" * MAX_BYTES)
    assert refused.value.status == 413 and refused.value.text.startswith("file:")
