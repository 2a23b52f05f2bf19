"""The shopper's side over HTTP: portal session, the order with what is returnable, filing and following returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from db.engine import get_engine
from tests.api.api_helpers import inbound_tracking, line, order_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")


# --- portal -------------------------------------------------------------------------------------


async def test_session_by_number_and_email_ignores_email_case(client, shop):
    order = await shop.order(email_addr="Ana.Sousa@Example.com")
    r = await client.post(
        "/api/v1/portal/session", json={"order_number": order.number, "email": "ANA.SOUSA@example.COM"}
    )
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    r = await client.get("/api/v1/portal/order", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["number"] == order.number


async def test_wrong_email_and_unknown_order_answer_the_same_404(client, shop):
    order = await shop.order()
    wrong_email = await client.post(
        "/api/v1/portal/session", json={"order_number": order.number, "email": "x@example.com"}
    )
    unknown = await client.post("/api/v1/portal/session", json={"order_number": "NO-SUCH-1", "email": order.email})
    assert wrong_email.status_code == unknown.status_code == 404
    assert wrong_email.json() == unknown.json()
    assert wrong_email.json()["detail"]


async def test_portal_order_needs_a_shopper_session(client, tokens):
    assert (await client.get("/api/v1/portal/order")).status_code == 401
    assert (await client.get("/api/v1/portal/order", headers=await tokens.staff("admin"))).status_code == 401


async def test_portal_order_says_which_lines_can_be_returned(client, tokens):
    # The portal judges the window on the wall clock, so this order is dated by it.
    lines = [
        {"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": 2, "unit_price": 2500, "final_sale": False},
        {"id": "L2", "sku": "SOCK", "title": "Socks", "quantity": 1, "unit_price": 900, "final_sale": True},
    ]
    body = order_payload(delivered_at=datetime.now(UTC) - timedelta(days=10), lines=lines)
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/portal/order", headers=await tokens.shopper(body["number"]))
    assert r.status_code == 200, r.text
    got = {x["id"]: x for x in r.json()["lines"]}
    assert (got["L1"]["returnable_quantity"], got["L1"]["eligible"], got["L1"]["reason"]) == (2, True, None)
    assert got["L2"]["eligible"] is False and got["L2"]["returnable_quantity"] == 0
    assert "final sale" in got["L2"]["reason"]


async def test_portal_order_delivered_40_days_ago_has_a_closed_window(client, tokens):
    body = order_payload(delivered_at=datetime.now(UTC) - timedelta(days=40))
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/portal/order", headers=await tokens.shopper(body["number"]))
    (only,) = r.json()["lines"]
    assert only["eligible"] is False and only["returnable_quantity"] == 0
    assert "window" in only["reason"] and "closed" in only["reason"]


# --- filing a return ----------------------------------------------------------------------------


async def test_create_return_is_approved_with_a_label(client, shop, returns):
    order = await shop.order(quantity=2)
    ret, headers = await returns.create(order, line(quantity=1))
    assert ret["id"].startswith("R-") and ret["status"] == "awaiting_shipment"
    assert ret["decision"]["approved"] is True
    assert "approved at once" in ret["decision"]["reasons"]
    assert ret["amounts"] == {"currency": "EUR", "refund_total": 2500, "store_credit_total": 0, "fees_total": 0}
    assert inbound_tracking(ret).startswith("LC")
    # the shopper follows it, and the portal now holds back what is on its way
    assert (await returns.get(ret["id"], headers))["status"] == "awaiting_shipment"
    r = await client.get("/api/v1/portal/order", headers=headers)
    assert r.json()["lines"][0]["returnable_quantity"] == 1


async def test_final_sale_line_is_refused_naming_the_line_and_why(client, shop, returns):
    order = await shop.order(final_sale=True)
    answer, _ = await returns.create(order, line(), expect=422)
    detail = answer["detail"]
    assert "L1" in detail["message"] and "final sale" in detail["message"]
    assert [(x["line_id"], x["eligible"]) for x in detail["lines"]] == [("L1", False)]
    assert "final sale" in detail["lines"][0]["refusal"]


async def test_more_than_returnable_is_refused(client, shop, returns):
    order = await shop.order(quantity=2)
    answer, _ = await returns.create(order, line(quantity=3), expect=422)
    assert "L1" in answer["detail"]["message"] and "only 2" in answer["detail"]["message"]
    await returns.create(order, line(quantity=1))
    answer, _ = await returns.create(order, line(quantity=2), expect=422)
    assert "only 1" in answer["detail"]["message"]


async def test_window_closed_is_refused(client, shop, returns):
    order = await shop.order(delivered_days_ago=40)
    answer, _ = await returns.create(order, line(), expect=422)
    assert "L1" in answer["detail"]["message"] and "window" in answer["detail"]["message"]


async def test_order_number_of_another_order_is_not_found(client, shop, tokens):
    mine, theirs = await shop.order(), await shop.order()
    headers = await tokens.shopper(mine.number)
    r = await client.post("/api/v1/returns", json={"order_number": theirs.number, "lines": [line()]}, headers=headers)
    assert r.status_code == 404
    assert "order_number" in r.json()["detail"]


async def test_another_shopper_sees_404_not_403(client, shop, returns, tokens):
    ret, _ = await returns.create(await shop.order())
    stranger = await tokens.shopper((await shop.order()).number)
    missing = await client.get("/api/v1/returns/R-NOSUCHRETURN", headers=stranger)
    assert missing.status_code == 404
    for method, path in (
        ("GET", f"/api/v1/returns/{ret['id']}"),
        ("GET", f"/api/v1/returns/{ret['id']}/label.pdf"),
        ("POST", f"/api/v1/returns/{ret['id']}/cancel"),
    ):
        r = await client.request(method, path, headers=stranger)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.json() == missing.json()
    assert (await client.get(f"/api/v1/returns/{ret['id']}")).status_code == 401


async def test_status_read_after_the_database_dropped_every_connection(client, shop, returns, tokens, settings):
    """A database restart closes the connections the API keeps; the next reads (the shopper's, a staff
    member's) are answered from a fresh connection, not failed with a 503."""
    ret, shopper = await returns.create(await shop.order())
    admin = await tokens.staff("admin")
    assert (await returns.get(ret["id"], shopper))["status"] == "awaiting_shipment"
    async with get_engine(settings.resolved_database_url()).connect() as conn:
        dropped = await conn.scalar(text(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"))  # fmt: skip
    assert dropped
    assert (await returns.get(ret["id"], shopper))["status"] == "awaiting_shipment"
    assert (await returns.get(ret["id"], admin))["id"] == ret["id"]


async def test_label_is_a_pdf_for_the_shopper_and_for_staff(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order())
    for who in (headers, await tokens.staff("warehouse")):
        r = await client.get(f"/api/v1/returns/{ret['id']}/label.pdf", headers=who)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF")
    assert ret["shipments"][0]["label_url"] == f"/api/v1/returns/{ret['id']}/label.pdf"


async def test_shopper_cancels_before_a_scan_then_cannot_cancel_again(client, shop, returns):
    order = await shop.order()
    ret, headers = await returns.create(order)
    r = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=headers)
    assert again.status_code == 409
    assert "cancelled" in again.json()["detail"]
    # the quantity is free again for a new return
    r = await client.get("/api/v1/portal/order", headers=headers)
    assert r.json()["lines"][0]["returnable_quantity"] == 1


async def test_warehouse_cannot_cancel(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order())
    r = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=await tokens.staff("warehouse"))
    assert r.status_code == 403
    assert (await returns.get(ret["id"], headers))["status"] == "awaiting_shipment"


async def test_above_the_limit_waits_for_an_admin_who_approves(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order(unit_price=30000))
    assert ret["status"] == "pending_approval" and ret["decision"]["approved"] is False
    assert "a person at the shop will review this return before it goes ahead" in ret["decision"]["reasons"]
    assert ret["shipments"] == []
    assert (await client.get(f"/api/v1/returns/{ret['id']}/label.pdf", headers=headers)).status_code == 404
    r = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=await tokens.staff("warehouse"))
    assert r.status_code == 403
    r = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=headers)
    assert r.status_code == 401
    r = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=await tokens.staff("admin"))
    assert r.status_code == 200, r.text
    approved = r.json()
    assert approved["status"] == "awaiting_shipment"
    assert [s["direction"] for s in approved["shipments"]] == ["inbound"]
    label = await client.get(f"/api/v1/returns/{ret['id']}/label.pdf", headers=headers)
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    # approving twice is a conflict, not a second label
    r = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=await tokens.staff("admin"))
    assert r.status_code == 409
    assert len((await returns.get(ret["id"], headers))["shipments"]) == 1


async def test_admin_rejects_with_a_reason(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order(unit_price=30000))
    admin = await tokens.staff("admin")
    r = await client.post(f"/api/v1/returns/{ret['id']}/reject", json={"reason": "worn item"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    seen = await returns.get(ret["id"], headers)
    assert seen["status"] == "rejected"
    assert "worn item" in seen["timeline"][-1]["message"]
    r = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=admin)
    assert r.status_code == 409
