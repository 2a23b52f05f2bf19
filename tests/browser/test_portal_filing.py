"""Issue 19's return form in Chromium, on a phone (390 px) and a desktop (1280 px), in English and Portuguese: a
shopper files a damaged mug with a photo and a comment (the policy's reason for the shop's homeware asks for both),
and a dearer exchange of a tee for the next size, filed only once they agree to the charge on their card. axe-core
finds no violation of any impact in any state the form passes through, and nothing scrolls sideways."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.browser.test_portal import Shop, _token
from tests.support.axe import assert_accessible, sideways_overflow
from tests.support.browser import ARTIFACTS, needs_chromium
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = needs_chromium

WORDS = {
    "en": {"find": "Find my order", "step2": "2. Why are you returning them?",
           "comment": "The handle arrived broken off."},
    "pt": {"find": "Encontrar a encomenda", "step2": "2. Porque os devolve?",
           "comment": "A asa chegou partida."},
}  # fmt: skip


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    admin = {"Authorization": f"Bearer {_token(stack, 'admin')}"}
    policy = s.c.get("/api/v1/policy", headers=admin).json()["document"]
    r = s.c.put("/api/v1/policy", headers=admin, json={
        **policy, "reasons_by_category": {"homeware": ["defective", "changed_mind"]},
        "reason_requirements": {"defective": {"comment": True, "photos": 1}},
    })  # fmt: skip
    assert r.status_code == 200, r.text
    # Each run's exchange holds one L: enough for every run of the module.
    for sku, size, price, available, final in (("TEE-M", "M", 2500, 5, False), ("TEE-L", "L", 4000, 10, False),
                                               ("TEE-XL", "XL", 2500, 0, False), ("TEE-S", "S", 2500, 3, True)):  # fmt: skip
        r = s.c.put(f"/api/v1/inventory/{sku}", headers=s.auth, json={
            "title": f"Tee, {size}", "unit_price": price, "currency": "EUR", "available": available,
            "product": "tee", "options": {"size": size}, "final_sale": final})  # fmt: skip
        assert r.status_code == 200, r.text
    yield s
    s.c.close()


@pytest.fixture(autouse=True)
def _patient_expect() -> Iterator[None]:
    """Each change is a round trip with the policy's preview (and the card's look-up): on a busy machine it can take
    longer than Playwright's 5 s; wait for the page's answer as long as for any other action."""
    sync_api.expect.set_options(timeout=20_000)
    yield
    sync_api.expect.set_options(timeout=5_000)


def settled(page: Any) -> None:
    """htmx has swapped the steps in and made their new fields live (it does so a moment after they show): a file
    chosen earlier would go unnoticed."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added, .htmx-swapping')"
    )


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def checked(page: Any, name: str, width: int, blocked: list[str] | None = None) -> None:
    """No axe-core violation and nothing wider than the screen, in this state; a screenshot kept as an artifact."""
    assert not blocked, (name, blocked)
    assert_accessible(page, f"{name} at {width}px")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
        document.documentElement.clientWidth + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
        + Math.round(e.getBoundingClientRect().right))""")
    assert sideways_overflow(page) == 0, f"{name} scrolls sideways at {width}px: {wide}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"filing-{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["en", "pt"])
@pytest.mark.parametrize("width", [390, 1280])
def test_shopper_files_a_damaged_item_with_a_photo_and_a_dearer_exchange(
    stack: DevStack, shop: Shop, browser: Any, lang: str, width: int
) -> None:
    words, expect = WORDS[lang], sync_api.expect
    number, addr = shop.paid_order(extra_lines=[{"id": "L3", "sku": "MUG-1", "title": "Mug", "quantity": 1,
                                                 "unit_price": 1200, "category": "homeware"}])  # fmt: skip
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-PT" if lang == "pt" else "en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    blocked: list[str] = []
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and blocked.append(f"{msg.text[:30]} {msg.location}"),
    )
    try:
        page.goto(f"{stack.api_url}/portal")
        page.locator("#order_number").fill(number)
        page.locator("#email").fill(addr)
        page.get_by_role("button", name=words["find"]).click()
        page.wait_for_url("**/portal/order")
        checked(page, f"{lang}-1-items", width, blocked)

        page.locator("#l0-qty").select_option("1")  # the tee
        settled(page)
        page.locator("#l2-qty").select_option("1")  # the mug
        expect(page.locator("#step-2-heading")).to_have_text(words["step2"])
        expect(page.locator("#l2-reason")).to_have_value("")  # nothing preset
        mug_reasons = page.locator("#l2-reason option").evaluate_all("els => els.map(e => e.value)")
        assert mug_reasons == ["", "defective", "changed_mind"]  # the category's own reasons
        checked(page, f"{lang}-2-reasons", width, blocked)

        settled(page)
        page.locator("#l2-reason").select_option("defective")
        expect(page.locator("#l2-comment")).to_be_visible()
        settled(page)
        page.locator("#l2-file").set_input_files({"name": "mug.jpg", "mimeType": "image/jpeg", "buffer": picture()})
        expect(page.locator("#l2-photos-added")).to_be_visible()
        settled(page)
        page.locator("#l2-comment").fill(words["comment"])
        settled(page)
        page.locator("#l0-reason").select_option("too_small")
        expect(page.locator("#step-3")).to_be_visible()
        expect(page.locator("#l2-comment")).to_have_value(words["comment"])
        checked(page, f"{lang}-3-wants", width, blocked)

        settled(page)
        page.locator('input[name="l2-resolution"][value="refund"]').check()
        settled(page)
        page.locator('input[name="l0-resolution"][value="exchange"]').check()
        expect(page.locator("#l0-exchange")).to_be_visible()
        sizes = page.locator("#l0-exchange option").evaluate_all("els => els.map(e => e.value)")
        assert sizes == ["", "TEE-L"]  # not M (bought), XL (sold out) or S (final sale)
        settled(page)
        page.locator("#l0-exchange").select_option("TEE-L")
        expect(page.locator("#charge-text")).to_contain_text("Visa 4242")
        expect(page.locator("#charge-text")).to_contain_text(re.compile(r"15[.,]00"))
        checked(page, f"{lang}-4-charge", width, blocked)

        settled(page)
        page.locator("#submit-button").click()  # not agreed yet: nothing is filed
        expect(page.locator("#consent-error")).to_be_visible()
        assert page.locator("#consent").get_attribute("aria-describedby") == "consent-error"
        checked(page, f"{lang}-5-consent-missing", width, blocked)

        settled(page)
        page.locator("#consent").check()
        page.locator("#submit-button").click()
        page.wait_for_url(re.compile(r".*/portal/returns/R-[A-Z0-9]+$"))
        checked(page, f"{lang}-6-filed", width, blocked)
        rid = page.url.rsplit("/", 1)[1]
        staff = {"Authorization": f"Bearer {_token(stack, 'finance')}"}
        got = shop.c.get(f"/api/v1/returns/{rid}", headers=staff).json()
        by_line = {x["line_id"]: x for x in got["lines"]}
        assert by_line["L3"]["comment"] == words["comment"] and len(by_line["L3"]["photo_ids"]) == 1
        assert by_line["L1"]["exchange_sku"] == "TEE-L" and by_line["L1"]["price_difference"] == 1500
        assert not blocked, blocked
    finally:
        context.close()


def test_shopper_sees_each_photo_and_removes_one_before_filing(stack: DevStack, shop: Shop, browser: Any) -> None:
    """At 390 px in Portuguese: each photo added to the mug shows as a thumbnail (served to this shopper, under the
    CSP), each with a Remove button naming it; removing one gives the line room again but never more than 3 photos,
    the removed photo is gone from the shop, and the filed return names only the photos left."""
    expect = sync_api.expect
    number, addr = shop.paid_order(extra_lines=[{"id": "L3", "sku": "MUG-1", "title": "Caneca", "quantity": 1,
                                                 "unit_price": 1200, "category": "homeware"}])  # fmt: skip
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-PT")
    page = context.new_page()
    page.set_default_timeout(20_000)
    blocked: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and blocked.append(msg.text[:80]))
    try:
        page.goto(f"{stack.api_url}/portal")
        page.locator("#order_number").fill(number)
        page.locator("#email").fill(addr)
        page.get_by_role("button", name=WORDS["pt"]["find"]).click()
        page.wait_for_url("**/portal/order")
        page.locator("#l2-qty").select_option("1")
        settled(page)
        page.locator("#l2-reason").select_option("defective")
        settled(page)
        page.locator("#l2-comment").fill(WORDS["pt"]["comment"])
        thumbs = page.locator("#l2-photos img")

        def add_photo(count: int) -> None:
            settled(page)
            page.locator("#l2-file").set_input_files({"name": "caneca.jpg", "mimeType": "image/jpeg",
                                                      "buffer": picture()})  # fmt: skip
            expect(thumbs).to_have_count(count)
            for i in range(count):  # each loaded: this shopper may read it, and the CSP lets it in
                page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=thumbs.nth(i).element_handle())

        for n in (1, 2, 3):
            add_photo(n)
        expect(page.locator("#l2-file")).to_have_count(0)  # 3 is the most for an item
        expect(thumbs.nth(1)).to_have_attribute("alt", "A sua fotografia 2 de Caneca")
        ids = page.locator('input[name="l2-photo"]').evaluate_all("els => els.map(e => e.value)")
        assert len(set(ids)) == 3
        checked(page, "pt-photos-three", 390, blocked)

        settled(page)
        page.get_by_role("button", name="Remover a fotografia 2 de Caneca").click()
        expect(thumbs).to_have_count(2)
        expect(page.locator("#l2-photos-added")).to_have_text("Fotografias adicionadas: 2")
        expect(page.locator("#l2-file")).to_be_focused()  # room again, and the focus is where to add one
        assert page.request.get(f"{stack.api_url}/portal/photos/{ids[1]}").status == 404  # deleted
        assert page.request.get(f"{stack.api_url}/portal/photos/{ids[0]}").status == 200
        checked(page, "pt-photos-removed", 390, blocked)

        add_photo(3)  # after a removal the count still stops at 3
        expect(page.locator("#l2-file")).to_have_count(0)
        settled(page)
        page.get_by_role("button", name="Remover a fotografia 1 de Caneca").click()
        expect(thumbs).to_have_count(2)
        left = page.locator('input[name="l2-photo"]').evaluate_all("els => els.map(e => e.value)")
        assert left[0] == ids[2] and ids[0] not in left and ids[1] not in left

        settled(page)
        page.locator('input[name="l2-resolution"][value="refund"]').check()
        expect(page.locator("#preview-refund")).to_contain_text("12")
        settled(page)
        page.locator("#submit-button").click()
        page.wait_for_url(re.compile(r".*/portal/returns/R-[A-Z0-9]+$"))
        rid = page.url.rsplit("/", 1)[1]
        staff = {"Authorization": f"Bearer {_token(stack, 'finance')}"}
        got = shop.c.get(f"/api/v1/returns/{rid}", headers=staff).json()
        assert got["lines"][0]["photo_ids"] == left  # only the photos left on the line
        assert not blocked, blocked
    finally:
        context.close()
