"""Parcels over HTTP: a new label (API and portal), split returns and closing receiving (API and console), and the
Exceptions queue for parcels that stopped moving (API filter and console)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api.api_helpers import console_sign_in, inbound_tracking, line
from tests.workflows.test_logistics import policy

pytestmark = pytest.mark.asyncio(loop_scope="session")


def pdf_text(content: bytes) -> str:
    return pdfium.PdfDocument(content)[0].get_textpage().get_text_range()


def labels(ret: dict) -> list[dict]:
    return [s for s in ret["shipments"] if s["direction"] == "inbound"]


async def file_return(client, tokens, order, **extra) -> tuple[dict, dict[str, str]]:
    headers = await tokens.shopper(order.number, order.email)
    r = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line()], **extra},
                          headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json(), headers


async def test_shopper_and_staff_get_a_new_label_and_the_old_one_stops_working(client, shop, returns, tokens):
    ret, shopper = await returns.create(await shop.order())
    rid, old = ret["id"], inbound_tracking(ret)
    stranger = await tokens.shopper((await shop.order()).number)
    assert (await client.post(f"/api/v1/returns/{rid}/label", headers=stranger)).status_code == 404
    assert (await client.post(f"/api/v1/returns/{rid}/label")).status_code == 401

    r = await client.post(f"/api/v1/returns/{rid}/label", headers=shopper)
    assert r.status_code == 200, r.text
    current = [s for s in labels(r.json()) if s["status"] != "voided"]
    assert [s["status"] for s in labels(r.json()) if s["tracking_number"] == old] == ["voided"]
    assert len(current) == 1 and current[0]["tracking_number"] != old
    pdf = await client.get(f"/api/v1/returns/{rid}/label.pdf", headers=shopper)
    assert pdf.status_code == 200 and current[0]["tracking_number"] in pdf_text(pdf.content)

    warehouse = await tokens.staff("warehouse")
    r = await client.post(f"/api/v1/returns/{rid}/label", headers=warehouse)
    assert r.status_code == 200, r.text
    last = r.json()["timeline"][-1]  # the role for everyone; the staff member's name for staff only
    assert "at the request of the shop" in last["message"] and last["by"].startswith("warehouse-")

    newest = [s for s in labels(r.json()) if s["status"] != "voided"][0]["tracking_number"]
    assert (await returns.scan(newest, "in_transit")).status_code == 202
    await returns.wait_status(rid, shopper, "in_transit")
    refused = await client.post(f"/api/v1/returns/{rid}/label", headers=shopper)
    assert refused.status_code == 409 and refused.json()["detail"].startswith("status:")


async def test_portal_button_gets_a_new_label_with_csrf(client, shop, returns):
    ret, shopper = await returns.create(await shop.order())
    rid, old = ret["id"], inbound_tracking(ret)
    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    page = await client.get(f"/portal/returns/{rid}")
    assert f'action="/portal/returns/{rid}/label"' in page.text and 'id="new-label-button"' in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    assert (await client.post(f"/portal/returns/{rid}/label", data={"csrf": "forged"})).status_code == 403
    assert (await returns.get(rid, shopper))["shipments"][0]["status"] != "voided"
    csrf = client.cookies.get("portal_csrf")
    done = await client.post(f"/portal/returns/{rid}/label", data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/portal/returns/{rid}"
    after = await returns.get(rid, shopper)
    assert [s["status"] for s in labels(after)] == ["voided", "label_created"]
    page = await client.get(f"/portal/returns/{rid}")
    assert labels(after)[1]["tracking_number"] in page.text and old not in page.text.split('id="tracking"')[1][:60]
    client.cookies.clear()


async def test_parcels_are_bounded_and_each_gets_its_own_label(client, shop, returns, tokens):
    order = await shop.order(quantity=2)
    headers = await tokens.shopper(order.number, order.email)
    for bad in (0, 11, "two"):
        r = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line()],
                                                       "parcels": bad}, headers=headers)  # fmt: skip
        assert r.status_code == 422, r.text
        assert "parcels" in str(r.json()["detail"]), r.text
    ret, headers = await file_return(client, tokens, order, parcels=3)
    got = labels(ret)
    assert [(s["parcel"], s["parcels"]) for s in got] == [(1, 3), (2, 3), (3, 3)]
    assert got[1]["label_url"].endswith("?parcel=2")
    second = await client.get(f"/api/v1/returns/{ret['id']}/label.pdf?parcel=2", headers=headers)
    assert second.status_code == 200
    text = pdf_text(second.content)
    assert "parcel 2/3" in text and got[1]["tracking_number"] in text


async def test_warehouse_closes_receiving_of_a_split_return(client, shop, returns, tokens):
    ret, shopper = await file_return(client, tokens, await shop.order(quantity=2), parcels=2)
    rid = ret["id"]
    one, two = (s["tracking_number"] for s in labels(ret))
    warehouse, finance = await tokens.staff("warehouse"), await tokens.staff("finance")
    assert (await returns.scan(one, "in_transit")).status_code == 202
    await returns.wait_status(rid, shopper, "in_transit")
    assert (await returns.scan(one, "delivered")).status_code == 202
    for _ in range(100):
        got = await returns.get(rid, shopper)
        if labels(got)[0]["status"] == "delivered":
            break
        await asyncio.sleep(0.05)
    assert got["status"] == "in_transit"
    assert "parcel 1/2 delivered to the warehouse; waiting for 1 more" in got["timeline"][-1]["message"]
    assert (await client.post(f"/api/v1/returns/{rid}/receive", headers=finance)).status_code == 403
    assert (await client.post(f"/api/v1/returns/{rid}/receive", headers=shopper)).status_code == 401

    await console_sign_in(client, tokens, "warehouse")
    page = await client.get(f"/staff/returns/{rid}")
    assert 'id="receive-submit"' in page.text and two in page.text
    csrf = client.cookies.get("staff_csrf")
    done = await client.post(f"/staff/returns/{rid}/receive", data={"csrf": csrf})
    assert done.status_code == 303, done.text
    client.cookies.clear()
    got = await returns.wait_status(rid, shopper, "received")
    assert f"parcels that never arrived: 2/2 ({two})" in got["timeline"][-1]["message"]
    assert [s["status"] for s in labels(got)] == ["delivered", "missing"]
    again = await client.post(f"/api/v1/returns/{rid}/receive", headers=warehouse)
    assert again.status_code == 409


async def test_stuck_parcel_is_in_the_exceptions_queue_until_it_moves(
    client, shop, returns, tokens, ts_env: WorkflowEnvironment
):
    ret, shopper = await returns.create(await shop.order())
    rid, tracking = ret["id"], inbound_tracking(ret)
    admin = await tokens.staff("admin")
    assert (await returns.scan(tracking, "in_transit")).status_code == 202
    await returns.wait_status(rid, shopper, "in_transit")

    async def queue(flag: str) -> list[str]:
        r = await client.get(f"/api/v1/returns?attention={flag}&limit=200", headers=admin)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert rid not in await queue("true")
    await ts_env.sleep(timedelta(days=5, hours=1))
    for _ in range(200):
        if rid in await queue("true"):
            break
        await asyncio.sleep(0.05)
    assert rid in await queue("true") and rid not in await queue("false")
    got = await returns.get(rid, shopper)
    assert got["attention"] and "no carrier scan for 5 days" in got["attention_reason"]
    assert labels(got)[0]["status"] == "exception"
    assert (await client.get("/api/v1/returns?attention=maybe", headers=admin)).status_code == 422
    assert (await client.get("/api/v1/returns?attention=true", headers=shopper)).status_code == 401

    await console_sign_in(client, tokens, "admin")
    console = await client.get("/staff/exceptions")
    assert console.status_code == 200 and f'id="row-{rid}"' in console.text and 'id="nav-exceptions"' in console.text
    detail = await client.get(f"/staff/returns/{rid}")
    assert 'id="attention"' in detail.text
    assert f'id="attention-{rid}"' in (await client.get(f"/staff/returns?q={rid}")).text
    client.cookies.clear()

    assert (await returns.scan(tracking, "in_transit")).status_code == 202
    for _ in range(200):
        if rid not in await queue("true"):
            break
        await asyncio.sleep(0.05)
    assert rid not in await queue("true")
    assert not (await returns.get(rid, shopper))["attention"]


async def test_portal_form_asks_how_many_parcels(client, shop, returns, tokens):
    order = await shop.order(quantity=2)
    shopper = await tokens.shopper(order.number, order.email)
    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    await client.get("/portal/order")
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "2", "l0-reason": "too_small",
            "l0-resolution": "refund"}  # fmt: skip
    steps = await client.post("/portal/order/steps", data=form)  # the last step asks, once the items are chosen
    assert 'name="parcels"' in steps.text
    refused = await client.post("/portal/returns", data={**form, "parcels": "99"})
    assert refused.status_code == 422 and "between 1 and 10 parcels" in refused.text
    done = await client.post("/portal/returns", data={**form, "parcels": "2"})
    assert done.status_code == 303, done.text
    rid = done.headers["location"].rsplit("/", 1)[1]
    ret = await returns.get(rid, shopper)
    assert [(s["parcel"], s["parcels"]) for s in labels(ret)] == [(1, 2), (2, 2)]
    status = await client.get(f"/portal/returns/{rid}")
    assert f'href="/portal/returns/{rid}/label.pdf?parcel=2"' in status.text
    client.cookies.clear()


async def test_portal_offers_a_new_label_once_the_old_one_expired(client, shop, returns, settings, ts_env):
    async with policy(settings, label_validity_days=5):
        ret, shopper = await returns.create(await shop.order())
    rid, old = ret["id"], inbound_tracking(ret)
    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    assert 'id="label-void"' not in (await client.get(f"/portal/returns/{rid}")).text
    await ts_env.sleep(timedelta(days=5, hours=1))
    for _ in range(200):
        if labels(await returns.get(rid, shopper))[0]["status"] == "voided":
            break
        await asyncio.sleep(0.05)
    page = await client.get(f"/portal/returns/{rid}")
    assert 'id="label-void"' in page.text and 'id="label-link"' not in page.text
    assert (await client.get(f"/portal/returns/{rid}/label.pdf")).status_code == 404
    done = await client.post(f"/portal/returns/{rid}/label", data={"csrf": client.cookies.get("portal_csrf")})
    assert done.status_code == 303
    page = await client.get(f"/portal/returns/{rid}")
    assert 'id="label-void"' not in page.text and 'id="label-link"' in page.text
    pdf = await client.get(f"/portal/returns/{rid}/label.pdf")
    assert pdf.status_code == 200 and old not in pdf_text(pdf.content)
    client.cookies.clear()


async def test_a_closed_return_leaves_the_exceptions_queue(client, shop, returns, tokens, ts_env):
    ret, shopper = await returns.create(await shop.order())
    rid = ret["id"]
    admin = await tokens.staff("admin")
    assert (await returns.scan(inbound_tracking(ret), "exception")).status_code == 202
    for _ in range(200):
        if (await returns.get(rid, shopper))["attention"]:
            break
        await asyncio.sleep(0.05)
    listed = await client.get("/api/v1/returns?attention=true&limit=200", headers=admin)
    assert rid in [x["id"] for x in listed.json()["items"]]
    await ts_env.sleep(timedelta(days=14, hours=1))  # the return expires
    got = await returns.wait_status(rid, shopper, "expired")
    assert got["attention"]  # still marked, but nobody needs to act on a closed return
    listed = await client.get("/api/v1/returns?attention=true&limit=200", headers=admin)
    assert rid not in [x["id"] for x in listed.json()["items"]]
