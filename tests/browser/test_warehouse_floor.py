"""Issue 18's warehouse floor in Chromium on a tablet (820 px) and a desk (1280 px), in English and Portuguese, against
`reverso dev`: a worker invited with `reverso staff invite` (the link read from the e-mail in the SMTP sink) sets a
password and signs in with it, receives a parcel the carrier still shows in transit, inspects it as a wrong item with a
photo, and is back at the scan field for the next parcel; finance, invited the same way, sees the photo beside the
review and approves the refund. axe-core checks every page state on the way."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.browser.test_staff_consoles import Shop
from tests.support.axe import assert_accessible
from tests.support.browser import needs_chromium, snap
from tests.support.services import DevStack
from tests.support.staff_people import person

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium

SIZES = {820: {"width": 820, "height": 1180}, 1280: {"width": 1280, "height": 800}}  # a tablet, a desk
WORDS = {
    "en": {"receive": "Receive the parcel", "record": "Record the inspection", "done": "recorded",
           "scan": "Scan or type a tracking number or return id", "wrong_item": "Wrong item",
           "approve": "Approve the refund", "completed": "Completed"},
    "pt": {"receive": "Receber a encomenda", "record": "Registar a inspeção", "done": "registada",
           "scan": "Leia ou escreva um número de seguimento ou de devolução", "wrong_item": "Artigo errado",
           "approve": "Aprovar o reembolso", "completed": "Concluída"},
}  # fmt: skip


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def phone_photo() -> bytes:
    """A small PNG with EXIF naming a camera and a GPS position, as a phone's photo would."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (41.0, 9.0, 0.0)})
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, "PNG", exif=exif.tobytes())
    return out.getvalue()


def in_transit(shop: Shop) -> tuple[str, str]:
    number, addr = shop.paid_order()
    rid = shop.file_return(number, addr, 2)["id"]
    tracking = shop.tracking(rid)
    shop.scan(tracking, "in_transit")
    shop.wait_status(rid, "in_transit")
    return rid, tracking


@pytest.mark.parametrize("width", [820, 1280])
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_a_parcel_in_transit_is_received_inspected_with_a_photo_and_finance_approves_it(
    stack: DevStack, shop: Shop, request: pytest.FixtureRequest, lang: str, width: int
) -> None:
    page = request.getfixturevalue("page" if lang == "en" else "page_pt")
    page.set_viewport_size(SIZES[width])
    words = WORDS[lang]
    rid, tracking = in_transit(shop)
    nxt, next_tracking = in_transit(shop)

    person(stack, page, "warehouse", name=f"Wanda Floor {lang} {width}")
    scan = page.get_by_label(words["scan"])
    expect(scan).to_be_focused()
    assert_accessible(page, "the warehouse's scan page")
    scan.fill(tracking)
    scan.press("Enter")
    page.wait_for_url(f"**/staff/returns/{rid}")
    assert_accessible(page, "a return in transit, before it is received")
    page.get_by_role("button", name=words["receive"]).click()
    page.wait_for_url(f"**/staff/returns/{rid}")
    form = page.locator("#inspection")
    expect(form).to_be_visible()
    expect(page.locator("#l0-condition")).to_have_value("")  # nothing preset
    expect(page.locator("#l0-outcome")).to_have_value("")
    assert_accessible(page, "the inspection form")
    page.locator("#l0-accepted").fill("0")
    page.locator("#l0-condition").select_option("opened")
    page.locator("#l0-outcome").select_option("wrong_item")
    page.locator("#l0-photos").set_input_files([{"name": "tee.png", "mimeType": "image/png", "buffer": phone_photo()}])
    assert_accessible(page, "the inspection form, filled in")
    snap(page, f"warehouse-inspection-{lang}-{width}")
    page.get_by_role("button", name=words["record"]).click()
    page.wait_for_url(f"**/staff/warehouse?inspected={rid}")
    expect(page.locator("#inspected")).to_contain_text(rid)
    expect(page.locator("#inspected")).to_contain_text(words["done"])
    scan = page.get_by_label(words["scan"])
    expect(scan).to_be_focused()
    assert_accessible(page, "the scan page after an inspection")
    snap(page, f"warehouse-scan-next-{lang}-{width}")
    scan.fill(next_tracking)  # the next parcel
    scan.press("Enter")
    page.wait_for_url(f"**/staff/returns/{nxt}")
    shop.wait_status(rid, "pending_refund_review")  # nothing accepted: finance reviews it

    page.context.clear_cookies()
    person(stack, page, "finance", name=f"Fiona Desk {lang} {width}")
    item = page.locator(f"#review-{rid}")
    expect(item).to_contain_text(words["wrong_item"])
    thumb = item.locator(".photos img")
    expect(thumb).to_have_count(1)
    assert thumb.evaluate("img => img.complete && img.naturalWidth === 40")  # the photo itself loaded
    assert_accessible(page, "the finance queue with a photo")
    snap(page, f"finance-photo-{lang}-{width}")
    page.goto(f"{stack.api_url}/staff/returns/{rid}")
    expect(page.locator(".photos img")).to_have_count(1)
    href = page.locator(".photos a").get_attribute("href")
    got = page.context.request.get(f"{stack.api_url}{href}")
    assert got.status == 200 and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff" and b"PhoneMaker" not in got.body()
    assert_accessible(page, "the refund review with a photo")
    page.get_by_role("button", name=words["approve"]).click()
    page.wait_for_url(f"**/staff/returns/{rid}")
    expect(page.locator("#status-text")).to_have_text(words["completed"], timeout=30_000)
    expect(page.locator("#timeline")).to_contain_text(f"Fiona Desk {lang} {width}")  # the person, not a token
    expect(page.locator("#timeline")).to_contain_text(f"Wanda Floor {lang} {width}")
    assert_accessible(page, "an approved return")
    assert shop.wait_status(rid, "completed")["status"] == "completed"
