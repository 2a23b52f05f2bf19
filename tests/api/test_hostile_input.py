"""Hostile input (issue 14): nothing a user types can freeze a return or answer a 500.

Beyond tests/api/test_malformed_input.py (wrong types and sizes): NUL and other control characters, values longer
than the columns they end up in, and numbers and dates that fit their JSON type but not a shop. Each is refused at
the edge, a 422 naming the field for the JSON API and the form again with the reason for the pages, and nothing
behind it changed: no workflow ever receives a value PostgreSQL cannot store.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from db.engine import get_sessionmaker
from db.models import OrderRow
from tests.api.api_helpers import WEBHOOK_PATH, console_sign_in, line, order_payload, portal_order_page
from tests.api.test_malformed_input import fields, no_returns

pytestmark = pytest.mark.asyncio(loop_scope="session")
NUL = "\u0000"
POLICY = "/api/v1/policy"


async def console_post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(path, data={**data, "csrf": client.cookies.get("staff_csrf") or ""})


async def stored(settings, number: str) -> bool:
    """Whether the order is in PostgreSQL (asked there: a portal sign-in to a missing order counts against the
    sign-in limits, which the other tests of the session need)."""
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        return await s.get(OrderRow, number) is not None


def inspection(note: str = "", accepted: int = 1, condition: str = "new") -> dict:
    return {"lines": [{"line_id": "L1", "accepted_quantity": accepted, "condition": condition, "restock": True,
                       "note": note}]}  # fmt: skip


async def in_review(client, shop, returns, tokens) -> tuple[dict, dict[str, str]]:
    """A return waiting for finance: one of two units refused at inspection."""
    ret, headers = await returns.create(await shop.order(quantity=2, unit_price=4000), line(quantity=2))
    await returns.deliver(ret, headers)
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(condition="damaged"),
                          headers=await tokens.staff("warehouse"))  # fmt: skip
    assert r.status_code == 200, r.text
    return await returns.wait_status(ret["id"], headers, "pending_refund_review"), headers


async def awaiting_approval(shop, returns) -> tuple[dict, dict[str, str]]:
    ret, headers = await returns.create(await shop.order(unit_price=30_000))  # above the auto-approve limit
    assert ret["status"] == "pending_approval", ret
    return ret, headers


# --- finding 1: a NUL in a staff note -----------------------------------------------------------------------------


async def test_a_nul_in_an_inspection_note_is_refused_and_the_return_waits(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order())
    await returns.deliver(ret, headers)
    warehouse = await tokens.staff("warehouse")
    path = f"/api/v1/returns/{ret['id']}/inspection"
    r = await client.post(path, json=inspection(f"bad{NUL}note"), headers=warehouse)
    assert fields(r) == ["body.lines.0.note"]
    assert "U+0000" in r.json()["detail"][0]["reason"], r.json()

    await console_sign_in(client, tokens, "warehouse")
    form = {
        "l0-accepted": "1",
        "l0-condition": "new",
        "l0-outcome": "as_described",
        "l0-restock": "on",
        "l0-note": f"bad{NUL}note",
    }
    page = await console_post(client, f"/staff/returns/{ret['id']}/inspection", form)
    assert page.status_code == 422, page.text
    assert 'id="action-error"' in page.text and "lines[0].note" in page.text and "U+0000" in page.text
    after = await returns.get(ret["id"], headers)
    assert after["status"] == "received" and after["lines"][0]["accepted_quantity"] is None, after

    r = await client.post(path, json=inspection("two lines\nof note"), headers=warehouse)  # newlines are fine
    assert r.status_code == 200, r.text


async def test_a_nul_in_a_refund_review_note_is_refused_and_finance_still_decides(client, shop, returns, tokens):
    ret, headers = await in_review(client, shop, returns, tokens)
    finance = await tokens.staff("finance")
    path = f"/api/v1/returns/{ret['id']}/refund-review"
    r = await client.post(path, json={"approve": False, "note": f"no{NUL}"}, headers=finance)
    assert fields(r) == ["body.note"]

    await console_sign_in(client, tokens, "finance")
    page = await console_post(client, f"/staff/returns/{ret['id']}/review", {"decision": "deny", "note": f"no{NUL}"})
    assert page.status_code == 422, page.text
    assert 'id="note-error"' in page.text and "U+0000" in page.text
    assert (await returns.get(ret["id"], headers))["status"] == "pending_refund_review"

    r = await client.post(path, json={"approve": True, "amount": 4000, "note": "ok"}, headers=finance)
    assert r.status_code == 200, r.text


async def test_a_nul_in_a_reject_reason_is_refused_and_the_return_still_waits(client, shop, returns, tokens):
    ret, headers = await awaiting_approval(shop, returns)
    admin = await tokens.staff("admin")
    r = await client.post(f"/api/v1/returns/{ret['id']}/reject", json={"reason": f"fraud{NUL}"}, headers=admin)
    assert fields(r) == ["body.reason"]

    await console_sign_in(client, tokens, "admin")
    page = await console_post(client, f"/staff/returns/{ret['id']}/reject", {"reason": f"fraud{NUL}"})
    assert page.status_code == 422, page.text
    assert "U+0000" in page.text
    assert (await returns.get(ret["id"], headers))["status"] == "pending_approval"


# --- finding 2: NUL (and overlong values) elsewhere, each once a 500 ---------------------------------------------


async def test_portal_sign_in_with_a_nul_is_refused_without_a_session(client):
    r = await client.post("/api/v1/portal/session", json={"order_number": f"A{NUL}", "email": f"a{NUL}@example.com"})
    assert fields(r) == ["body.email", "body.order_number"]

    await client.get("/portal")
    page = await client.post("/portal", data={"order_number": f"A{NUL}", "email": "a@example.com",
                                              "csrf": client.cookies.get("portal_csrf")})  # fmt: skip
    assert page.status_code == 422, page.text
    assert 'id="find-error"' in page.text and "portal_session" not in page.cookies


async def test_return_ids_with_a_nul_are_refused_in_every_path(client, shop, returns, tokens):
    order = await shop.order()
    ret, shopper = await returns.create(order)
    for headers in (shopper, await tokens.staff("admin")):
        for method, path in [("GET", "/api/v1/returns/R-%00"), ("GET", "/api/v1/returns/R-%00/label.pdf"),
                             ("POST", "/api/v1/returns/R-%00/cancel"), ("POST", "/api/v1/returns/R-%00/label")]:  # fmt: skip
            r = await client.request(method, path, headers=headers)
            assert fields(r) == ["path.rid"], path
    r = await client.post("/api/v1/returns/R-%00/receive", headers=await tokens.staff("warehouse"))
    assert fields(r) == ["path.rid"]

    await portal_order_page(client, order)  # the shopper's cookie: the portal's pages look the return up
    for path in ("/portal/returns/R-%00", "/portal/returns/R-%00/status", "/portal/returns/R-%00/qr.svg"):
        assert fields(await client.get(path)) == ["path.rid"], path
    assert (await client.get(f"/portal/returns/{ret['id']}")).status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"exchange_sku": f"TEE-L{NUL}", "resolution": "exchange"}, "body.lines.0.exchange_sku"),
        ({"reason": f"too_small{NUL}"}, "body.lines.0.reason"),
        ({"line_id": f"L1{NUL}"}, "body.lines.0.line_id"),
    ],
)
async def test_return_lines_with_a_nul_file_nothing(client, tokens, shop, changes, field):
    order = await shop.order()
    headers = await tokens.shopper(order.number)
    body = {"lines": [{**line(), **changes}]}
    assert fields(await client.post("/api/v1/portal/estimate", json=body, headers=headers)) == [field]
    r = await client.post("/api/v1/returns", json={"order_number": order.number, **body}, headers=headers)
    assert fields(r) == [field]
    await no_returns(client, tokens, order.number)


async def test_search_and_scan_boxes_with_a_nul_find_nothing(client, tokens):
    admin = await tokens.staff("admin")
    assert fields(await client.get("/api/v1/returns", params={"q": f"ana{NUL}"}, headers=admin)) == ["query.q"]
    await console_sign_in(client, tokens, "admin")
    page = await client.get("/staff/returns", params={"q": f"ana{NUL}"})
    assert page.status_code == 422 and 'id="total"' in page.text, page.text
    page = await client.get("/staff/warehouse", params={"code": f"RT{NUL}1"})
    assert page.status_code == 422 and 'id="scan-error"' in page.text, page.text


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("number", f"A{NUL}1", "body.number"),
        ("lines.0.id", f"L{NUL}", "body.lines.0.id"),
        ("lines.0.sku", f"TEE{NUL}", "body.lines.0.sku"),
        ("lines.0.title", f"Tee{NUL}", "body.lines.0.title"),
        ("lines.0.tags", ["ok", f"sale{NUL}"], "body.lines.0.tags.1"),
        ("lines.0.category", f"tops{NUL}", "body.lines.0.category"),
        ("shipping_address.name", f"Ana{NUL}", "body.shipping_address.name"),
        ("payment.reference", f"pi_{NUL}", "body.payment.reference"),
        # A line id goes into 200-character ledger keys after the return id ("R-...:refund:<line id>").
        ("lines.0.id", "L" * 190, "body.lines.0.id"),
    ],
)
async def test_orders_with_unstorable_text_are_not_stored(client, tokens, settings, path, value, field):
    body = order_payload(number="H" + uuid.uuid4().hex[:9].upper())
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[last] = value
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert fields(r) == [field]
    assert not await stored(settings, body["number"].replace(NUL, "")), "a refused order was stored anyway"


async def test_inventory_with_a_nul_changes_no_stock(client, tokens, db):
    headers = await tokens.staff("integration")
    good = {"title": "Tee", "unit_price": 2500, "currency": "EUR", "available": 4}
    assert fields(await client.put("/api/v1/inventory/TEE%00M", json=good, headers=headers)) == ["path.sku"]
    sku = "NUL-" + uuid.uuid4().hex[:6].upper()
    r = await client.put(f"/api/v1/inventory/{sku}", json={**good, "title": f"Tee{NUL}"}, headers=headers)
    assert fields(r) == ["body.title"]
    assert await db.available(sku) is None


async def test_store_credit_codes_and_references_that_cannot_be_stored_spend_nothing(client, tokens, settings, db):
    from activities.store_credit import new_code
    from db.engine import get_sessionmaker
    from db.models import StoreCredit

    code = new_code()
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        s.add(StoreCredit(code=code, email="x@example.com", currency="EUR", balance=1500))
    headers = await tokens.staff("integration")
    assert fields(await client.get("/api/v1/store-credit/AB%00CD", headers=headers)) == ["path.code"]
    r = await client.post("/api/v1/store-credit/AB%00CD/redeem", json={"amount": 1, "order_reference": "o-1"},
                          headers=headers)  # fmt: skip
    assert fields(r) == ["path.code"]
    # The reference is part of the ledger entry's 200-character key, after "redeem:" and the code.
    for reference in (f"o{NUL}1", "o" * 190):
        r = await client.post(f"/api/v1/store-credit/{code}/redeem", json={"amount": 100, "order_reference": reference},
                              headers=headers)  # fmt: skip
        assert fields(r) == ["body.order_reference"]
    assert await db.credit_balance(code) == 1500


@pytest.fixture
async def policy_kept(client, tokens):
    """The policy in force before the test, put back if a refused document was stored after all (on older code)."""
    admin = await tokens.staff("admin")
    before = (await client.get(POLICY, headers=admin)).json()
    yield admin, before["version"]
    now = (await client.get(POLICY, headers=admin)).json()
    if now["version"] != before["version"]:
        r = await client.put(POLICY, json=before["document"], headers=admin)
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_days_by_tag": {f"holiday{NUL}": 60}}, f"body.window_days_by_tag.holiday{NUL}.[key]"),
        ({"window_days_by_category": {"": 7}}, "body.window_days_by_category..[key]"),
        ({"restocking_fee_bps_by_reason": {f"changed{NUL}": 100}}, f"body.restocking_fee_bps_by_reason.changed{NUL}.[key]"),
        ({"reasons": ["too_small", f"bad{NUL}"]}, "body.reasons.1"),
        ({"restocking_fee_reasons": [f"x{NUL}"]}, "body.restocking_fee_reasons.0"),
        ({"non_returnable_tags": [f"final{NUL}"]}, "body.non_returnable_tags.0"),
        ({"blocked_emails": ["a,b@example.com"]}, "body.blocked_emails.0"),
    ],
)  # fmt: skip
async def test_policy_keys_and_lists_with_unstorable_text_are_refused(client, policy_kept, changes, field):
    admin, version = policy_kept
    document = (await client.get(POLICY, headers=admin)).json()["document"]
    r = await client.put(POLICY, json={**document, **changes}, headers=admin)
    assert fields(r) == [field]
    assert (await client.get(POLICY, headers=admin)).json()["version"] == version


@pytest.mark.parametrize(
    "tracking",
    ["X" * 65, f"RT{NUL}1"],
    ids=["longer-than-the-column", "nul"],
)
async def test_a_signed_scan_with_an_unstorable_tracking_number_is_refused(client, returns, tracking):
    body = json.dumps({"tracking_number": tracking, "event": "delivered",
                       "occurred_at": datetime.now(UTC).isoformat()}).encode()  # fmt: skip
    r = await client.post(WEBHOOK_PATH, content=body, headers=returns.sign(body))
    assert fields(r) == ["body.tracking_number"]


# --- finding 6: numbers and dates beyond a shop ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_days": 10_000_000_000}, "body.window_days"),
        ({"shipment_expiry_days": 3_000_000}, "body.shipment_expiry_days"),
        ({"window_days_by_tag": {"holiday": 3651}}, "body.window_days_by_tag.holiday"),
        ({"store_credit_expiry_days": 10**6}, "body.store_credit_expiry_days"),
        ({"serial_max_returns": 2**31}, "body.serial_max_returns"),
        ({"keep_it_below": 10**13}, "body.keep_it_below"),
    ],
)
async def test_policy_numbers_beyond_ten_years_or_the_columns_are_refused(client, policy_kept, changes, field):
    admin, version = policy_kept
    document = (await client.get(POLICY, headers=admin)).json()["document"]
    r = await client.put(POLICY, json={**document, **changes}, headers=admin)
    assert fields(r) == [field]
    assert (await client.get(POLICY, headers=admin)).json()["version"] == version


async def test_a_policy_version_beyond_int32_is_refused(client, tokens):
    admin = await tokens.staff("admin")
    assert fields(await client.get(f"{POLICY}/versions/2147483648", headers=admin)) == ["path.version"]
    assert (await client.get(f"{POLICY}/versions/2147483647", headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("placed_at", "2026-05-01T10:00:00"),  # no offset
        ("delivered_at", "2026-05-03T10:00:00"),
        ("delivered_at", "9999-12-31T00:00:00+00:00"),
        ("placed_at", "1970-01-01T00:00:00Z"),
        ("email", "a,b@example.com"),
        ("email", "x<y>@example.com"),
        ("email", "Ana <ana@example.com>"),
    ],
)
async def test_orders_with_dates_or_emails_beyond_a_shop_are_not_stored(client, tokens, settings, path, value):
    body = order_payload(number="D" + uuid.uuid4().hex[:9].upper())
    body[path] = value
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert fields(r) == [f"body.{path}"]
    assert not await stored(settings, body["number"]), "a refused order was stored anyway"


async def test_an_order_with_an_offset_in_range_is_stored_and_its_email_lowercased(client, tokens):
    delivered = datetime.now(UTC) - timedelta(days=2)
    body = order_payload(email=" Ana.Sousa@Example.COM ", delivered_at=delivered)
    body["placed_at"] = (delivered - timedelta(days=1)).astimezone().isoformat()
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/portal/session", json={"order_number": body["number"], "email": "ana.sousa@example.com"})  # fmt: skip
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("parcels", ["²", "١", "9" * 5000, "-1", "11"])
async def test_portal_parcels_that_are_not_a_number_in_range_show_the_form_again(client, tokens, shop, parcels):
    order = await shop.order()
    await portal_order_page(client, order)
    form = {"l0-qty": "1", "l0-reason": "too_small", "l0-resolution": "refund", "parcels": parcels,
            "submission": uuid.uuid4().hex, "csrf": client.cookies.get("portal_csrf")}  # fmt: skip
    page = await client.post("/portal/returns", data=form)
    assert page.status_code == 422, page.text
    assert 'name="parcels"' in page.text
    await no_returns(client, tokens, order.number)


async def test_console_quantities_that_are_not_typed_digits_show_the_form_again(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order())
    await returns.deliver(ret, headers)
    await console_sign_in(client, tokens, "warehouse")
    for accepted in ("²", "9" * 5000):
        form = {"l0-accepted": accepted, "l0-condition": "new", "l0-outcome": "as_described", "l0-restock": "on"}
        page = await console_post(client, f"/staff/returns/{ret['id']}/inspection", form)
        assert page.status_code == 422 and 'id="l0-accepted-error"' in page.text, page.text
    assert (await returns.get(ret["id"], headers))["status"] == "received"
