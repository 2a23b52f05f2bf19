"""Issue 18 in Chromium: an admin exports the list as CSV and approves two returns at once, at a tablet's width
(820 px) and a desk's (1280 px), in English and Portuguese; approve and reject confirm, with their errors where
they were asked (at both widths, in both languages); axe-core finds nothing on any console page reached; nothing scrolls sideways on a phone (390 px).

Screenshots of every page a failed test visited go to test-artifacts/ (always, with PORTAL_SCREENSHOTS=1).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.i18n import translator
from tests.browser.test_staff_consoles import Shop, token
from tests.support.axe import assert_accessible, sideways_overflow
from tests.support.browser import needs_chromium, open_page, snap
from tests.support.services import DevStack
from tests.support.staff_people import invite, sign_in

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium
LOCALES = {"en": "en-GB", "pt": "pt-PT"}


@pytest.fixture(scope="module")
def shop(stack: DevStack) -> Iterator[Shop]:
    s = Shop(stack)
    yield s
    s.c.close()


@pytest.fixture(scope="module")
def admin(stack: DevStack, browser: Any) -> str:
    """An admin invited with `reverso staff invite` who chose a password: their e-mail, for each test to sign in."""
    context = browser.new_context()
    try:
        return invite(stack, context.new_page(), "admin", name="Ada Admin")
    finally:
        context.close()


@pytest.fixture
def console(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in the test's language (its `lang` parameter), sized by the test."""
    yield from open_page(browser, request, locale=LOCALES[request.node.callspec.params["lang"]])


def pending_return(shop: Shop) -> str:
    """A return above the auto-approve limit: it waits for an admin."""
    rid = shop.file_return(*shop.paid_order(quantity=1, unit_price=30_000), 1)["id"]
    assert shop.get(rid)["status"] == "pending_approval"
    return rid


def review_return(shop: Shop, stack: DevStack) -> str:
    """A return waiting for finance: one of two tees accepted at inspection."""
    rid, _, _ = shop.received_return()
    warehouse = {"Authorization": f"Bearer {token(stack, 'warehouse', 'axe-warehouse')}"}
    r = shop.c.post(f"/api/v1/returns/{rid}/inspection", headers=warehouse, json={"lines": [
        {"line_id": "L1", "accepted_quantity": 1, "condition": "damaged", "restock": False}]})  # fmt: skip
    assert r.status_code == 200, r.text
    shop.wait_status(rid, "pending_refund_review")
    return rid


@pytest.mark.parametrize("width", [820, 1280])
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_admin_exports_the_csv_and_bulk_approves_two_returns(
    stack: DevStack, shop: Shop, console: Any, admin: str, width: int, lang: str, tmp_path: Path
) -> None:
    t, page = translator(lang), console
    ids = [pending_return(shop), pending_return(shop)]
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, stack, admin, "/staff/returns")
    assert_accessible(page, "the returns list")
    page.get_by_label(t("return.status")).select_option("pending_approval")
    page.get_by_label(t("staff.returns.sort")).select_option("-created_at")
    page.get_by_role("button", name=t("staff.returns.search")).click()
    table = page.get_by_role("table")
    for rid in ids:
        expect(table.locator(f"#row-{rid}")).to_contain_text(t("staff.status.pending_approval"))
    expect(table.locator("th[aria-sort=descending]")).to_have_count(0)  # created_at is not a column
    assert sideways_overflow(page) == 0
    assert_accessible(page, "the filtered list")
    snap(page, f"admin-list-{lang}-{width}")

    with page.expect_download() as download:
        page.get_by_role("button", name=t("staff.returns.export")).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("returns-") and saved.suffix == ".csv"
    with saved.open(newline="", encoding="utf-8") as f:
        exported = {x["id"]: x for x in csv.DictReader(f)}
    assert set(ids) <= set(exported) and {x["status"] for x in exported.values()} == {"pending_approval"}

    for rid in ids:
        page.get_by_label(t("staff.select_return", id=rid)).check()
    page.get_by_role("button", name=t("staff.bulk.approve")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("staff.bulk.confirm_heading", count=2))
    for rid in ids:
        expect(page.locator(f"#chosen-{rid}")).to_be_visible()
        assert shop.get(rid)["status"] == "pending_approval"  # nothing approved before the confirmation
    assert_accessible(page, "the bulk approval's confirmation")
    assert sideways_overflow(page) == 0
    page.get_by_role("button", name=t("staff.bulk.confirm", count=2)).click()
    expect(page.locator("#bulk-summary")).to_have_text(t("staff.bulk.done_summary", approved=2, count=2))
    for rid in ids:
        expect(page.locator(f"#result-{rid}")).to_contain_text(t("staff.bulk.outcome.approved"))
        shop.wait_status(rid, "awaiting_shipment")
    assert_accessible(page, "the bulk approval's results")
    page.get_by_role("link", name=t("staff.bulk.back")).click()
    for rid in ids:
        expect(page.locator(f"#row-{rid}")).to_have_count(0)  # the list of pending returns no longer has them


@pytest.mark.parametrize("width", [820, 1280])
@pytest.mark.parametrize("lang", ["en", "pt"])
def test_approve_and_reject_confirm_and_show_their_errors_where_asked(
    stack: DevStack, shop: Shop, console: Any, admin: str, lang: str, width: int
) -> None:
    t, page = translator(lang), console
    rid, other = pending_return(shop), pending_return(shop)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, stack, admin, "/staff/returns")
    page.get_by_label(t("return.status")).select_option("pending_approval")
    page.get_by_role("button", name=t("staff.returns.search")).click()
    row = page.locator(f"#row-{rid}")
    row.get_by_role("button", name=t("staff.decide.reject"), exact=True).click()  # opens its section
    row.get_by_label(t("staff.decide.reason")).fill("   ")  # only spaces: the browser sends it, the server refuses
    row.get_by_role("button", name=t("staff.decide.confirm_reject")).click()
    row = page.locator(f"#row-{rid}")
    expect(row.locator(f"#reason-error-{rid}")).to_have_text(t("staff.required"))
    expect(row.locator(f"#reason-error-{rid}")).to_be_in_viewport()
    expect(row.get_by_label(t("staff.decide.reason"))).to_be_focused()
    assert_accessible(page, "a refused rejection in the list")
    row.get_by_label(t("staff.decide.reason")).fill("worn and washed")
    row.get_by_role("button", name=t("staff.decide.confirm_reject")).click()
    shop.wait_status(rid, "rejected")

    page.goto(f"{stack.api_url}/staff/returns/{other}")
    decide = page.locator("#decide")
    decide.get_by_role("button", name=t("staff.decide.approve"), exact=True).click()
    expect(decide.locator(f"#approve-text-{other}")).to_be_visible()
    assert shop.get(other)["status"] == "pending_approval"  # opening the step approves nothing
    assert_accessible(page, "a return's approval step")
    decide.get_by_role("button", name=t("staff.decide.confirm_approve")).click()
    expect(page.locator("#status-text")).to_have_text(t("staff.status.awaiting_shipment"), timeout=30_000)
    assert_accessible(page, "an approved return")


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_every_console_page_is_accessible_and_fits_a_phone(
    stack: DevStack, shop: Shop, console: Any, admin: str, lang: str
) -> None:
    t, page = translator(lang), console
    held, waiting = review_return(shop, stack), pending_return(shop)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, stack, admin, "/staff/returns")
    pages = {"/staff/returns": "#results", "/staff/warehouse": "#code", "/staff/finance": f"#review-{held}",
             f"/staff/returns/{held}": "#review", f"/staff/returns/{waiting}": "#decide", "/staff/exceptions": "h1"}  # fmt: skip
    for path, shows in pages.items():
        page.goto(f"{stack.api_url}{path}")
        expect(page.locator(shows).first).to_be_visible()
        assert_accessible(page, path)
        if path == "/staff/finance":  # beside the review: the order, how it was paid, a partly accepted line
            finance = page.locator(f"#review-{held}")
            expect(finance.locator(".order-total")).to_have_text("50.00 EUR")
            expect(finance.locator(".paid-with")).to_have_text(t("staff.finance.card", brand="Visa", last4="4242"))
            expect(finance.locator(".why")).to_contain_text(
                t("staff.why.partly_accepted", line="L1", accepted=1, quantity=2)
            )
    if lang != "pt":
        return
    page.set_viewport_size({"width": 390, "height": 844})  # a phone, in the longer language
    for path in ("/staff/login", *pages):
        page.goto(f"{stack.api_url}{path}")
        expect(page.locator("h1").first).to_be_visible()
        assert sideways_overflow(page) == 0, f"{path} scrolls sideways at 390 px"
    page.goto(f"{stack.api_url}/staff/returns?status=pending_approval")
    page.get_by_label(t("staff.select_return", id=waiting)).check()
    page.get_by_role("button", name=t("staff.bulk.approve")).click()
    expect(page.locator(f"#chosen-{waiting}")).to_be_visible()
    assert sideways_overflow(page) == 0, "the bulk confirmation scrolls sideways at 390 px"
    assert_accessible(page, "the bulk confirmation on a phone")


def test_the_axe_helper_finds_what_it_should(browser: Any) -> None:
    """The check above is not vacuous: a page with an image without text and an unlabelled field fails it."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><title>x</title><main><img src="x.png"><input></main></html>')
        with pytest.raises(AssertionError, match="image-alt"):
            assert_accessible(page)
    finally:
        context.close()
