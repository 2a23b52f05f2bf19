"""Every portal page state a shopper meets, in Chromium at 390 px and 1280 px, in English and Portuguese (issue 19):
a skip link on each, sign-out and "another order" once signed in, the return's status announced (`aria-live`), sign-in
errors tied to their fields, the lock-out saying how long to wait; axe-core finds no violation of any impact on any.

A screenshot of each state is kept as a test artifact: in $REVERSO_SCREENSHOTS_DIR, else test-artifacts/portal/
(ignored by git). With REVERSO_README_SCREENSHOTS=1 the English sign-in, order and return pages at both widths are
also written, small, to docs/screenshots/ for the README.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_console_paths import Shop, bearer, token
from tests.browser.test_portal_return_page import open_order
from tests.support import services
from tests.support.axe import assert_accessible, sideways_overflow
from tests.support.browser import ARTIFACTS, needs_chromium
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium

SHOTS = Path(os.environ.get("REVERSO_SCREENSHOTS_DIR") or ARTIFACTS / "portal")
README_SHOTS = services.ROOT / "docs" / "screenshots"
WORDS = {"en": {"find": "Find my order", "another": "Another order", "sign_out": "Sign out"},
         "pt": {"find": "Encontrar a encomenda", "another": "Outra encomenda", "sign_out": "Terminar sessão"}}  # fmt: skip


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


def look(page: Any, name: str) -> None:
    """What every portal page must have, checked on the page as it is now, and its screenshot kept."""
    skip = page.locator("a.skip")
    expect(skip).to_have_attribute("href", "#main")
    expect(page.locator("main#main")).to_have_count(1)
    page.keyboard.press("Tab")  # the first stop of the keyboard is the skip link, shown when focused
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.locator("body").click(position={"x": 1, "y": 1})  # focus away again, so the screenshot shows the page
    assert_accessible(page, name)
    assert sideways_overflow(page) == 0, f"{name} scrolls sideways"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def readme_shot(page: Any, name: str) -> None:
    """The README's picture of a page: the first screen, in a 64-colour palette so the PNG stays small."""
    if not os.environ.get("REVERSO_README_SCREENSHOTS"):
        return
    from PIL import Image

    README_SHOTS.mkdir(parents=True, exist_ok=True)
    shot = Image.open(io.BytesIO(page.screenshot(full_page=False))).convert("RGB")
    small = shot.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(README_SHOTS / f"{name}.png", optimize=True)


def signed_in(page: Any, lang: str) -> None:
    expect(page.get_by_role("link", name=WORDS[lang]["another"])).to_have_attribute("href", "/portal")
    expect(page.get_by_role("button", name=WORDS[lang]["sign_out"])).to_be_visible()


def return_page(page: Any, stack: DevStack, rid: str, lang: str, name: str) -> None:
    page.goto(f"{stack.api_url}/portal/returns/{rid}?lang={lang}")
    expect(page.locator("#status-live")).to_have_attribute("aria-live", "polite")  # the polled status is announced
    signed_in(page, lang)
    look(page, name)


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_sign_in_order_and_return_pages(stack: DevStack, shop: Shop, page: Any, lang: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    number, addr, _ = shop.paid_order(quantity=2)
    page.goto(f"{stack.api_url}/portal?lang={lang}")
    look(page, f"sign-in-{lang}-{width}")
    readme_shot(page, f"sign-in-{width}") if lang == "en" else None

    # Wrong details: the message is tied to both fields, which say they are wrong.
    page.locator("#order_number").fill(number)
    page.locator("#email").fill("someone-else@example.com")
    page.get_by_role("button", name=WORDS[lang]["find"]).click()
    expect(page.locator("#find-error")).to_be_visible()
    for field in ("#order_number", "#email"):
        expect(page.locator(field)).to_have_attribute("aria-describedby", "find-error")
        expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
    look(page, f"sign-in-error-{lang}-{width}")

    open_order(page, stack, number, addr, lang)
    signed_in(page, lang)
    look(page, f"order-{lang}-{width}")
    readme_shot(page, f"order-{width}") if lang == "en" else None

    rid = shop.file_return(number, shop.shopper(number, addr))
    shop.tracking(rid)
    return_page(page, stack, rid, lang, f"return-send-it-{lang}-{width}")
    expect(page.locator("#ship-by")).to_be_visible()
    readme_shot(page, f"return-{width}") if lang == "en" else None

    # "Another order" leads back to the sign-in form; signing out ends the session.
    page.get_by_role("link", name=WORDS[lang]["another"]).click()
    expect(page.locator("#order_number")).to_be_visible()
    page.goto(f"{stack.api_url}/portal/order?lang={lang}")
    page.get_by_role("button", name=WORDS[lang]["sign_out"]).click()
    page.goto(f"{stack.api_url}/portal/returns/{rid}?lang={lang}")
    expect(page.locator("#order_number")).to_be_visible()  # signed out: back to the sign-in form


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_every_state_of_a_return_page(stack: DevStack, shop: Shop, page: Any, lang: str) -> None:
    held_number, held_addr, _ = shop.paid_order(quantity=2, unit_price=15000)  # above the auto-approve limit
    held = shop.file_return(held_number, shop.shopper(held_number, held_addr), quantity=2)
    open_order(page, stack, held_number, held_addr, lang)
    return_page(page, stack, held, lang, f"return-pending-approval-{lang}")
    r = shop.c.post(f"/api/v1/returns/{held}/reject", json={"reason": "The shirt was worn."},
                    headers=bearer(token(stack, "admin", "Tour Admin")))  # fmt: skip
    assert r.status_code == 200, r.text
    shop.wait_status(held, "rejected")
    return_page(page, stack, held, lang, f"return-rejected-{lang}")

    number, addr, _ = shop.paid_order(quantity=1)
    rid = shop.file_return(number, shop.shopper(number, addr))
    open_order(page, stack, number, addr, lang)
    tracking = shop.tracking(rid)
    shop.scan(tracking, "in_transit")
    shop.wait_status(rid, "in_transit")
    return_page(page, stack, rid, lang, f"return-in-transit-{lang}")
    # The page stays open: the parcel arrives, and the status region, the same element all along, says so.
    live = page.locator("#status-live").element_handle()
    said = live.inner_text()
    shop.scan(tracking, "delivered")
    shop.wait_status(rid, "received")
    page.wait_for_function("([e, before]) => e.isConnected && e.textContent.trim() !== before", arg=[live, said],
                           timeout=30_000)  # fmt: skip
    expect(page.locator("#status-live")).to_have_text(re.compile(r"(received|recebida)", re.I))
    return_page(page, stack, rid, lang, f"return-received-{lang}")
    shop.inspect(rid, accepted=1)
    shop.wait_status(rid, "completed")
    return_page(page, stack, rid, lang, f"return-completed-{lang}")

    page.goto(f"{stack.api_url}/portal/returns/{held}?lang={lang}")  # another order's return: not theirs
    expect(page.locator("main")).to_be_visible()
    look(page, f"return-not-found-{lang}")


def test_the_lock_out_says_how_long_to_wait(stack: DevStack, shop: Shop, page_pt: Any) -> None:
    """Last in the module: the sign-in limits count per client address (DESIGN.md, "Known traps")."""
    page = page_pt
    number, addr, _ = shop.paid_order(quantity=1)
    for _ in range(5):
        r = shop.c.post("/api/v1/portal/session", json={"order_number": number, "email": "wrong@example.com"})
        assert r.status_code == 404, r.text
    page.goto(f"{stack.api_url}/portal?lang=pt")
    page.locator("#order_number").fill(number)
    page.locator("#email").fill(addr)  # the right details, too late
    page.get_by_role("button", name=WORDS["pt"]["find"]).click()
    error = page.locator("#find-error")
    expect(error).to_have_attribute("role", "alert")
    assert re.search(r"\b1[45] minutos\b", error.inner_text()), error.inner_text()  # the 15-minute window
    expect(error).to_contain_text("o e-mail certos funcionam")  # not even the right order number and e-mail
    for field in ("#order_number", "#email"):
        expect(page.locator(field)).to_have_attribute("aria-describedby", "find-error")
    look(page, "sign-in-locked-pt")
