"""Issue 18, the admin's side over HTTP: the CSV export, sorting, bulk approval, and the console's list, decisions
and finance review (the Chromium journey is tests/browser/test_admin_console.py)."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid

import pytest

from db.engine import get_sessionmaker
from db.queries import upsert_order
from tests.api.api_helpers import console_sign_in, line

pytestmark = pytest.mark.asyncio(loop_scope="session")


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def export(client, headers, **params):
    return await client.get("/api/v1/returns.csv", params=params, headers=headers)


async def test_csv_is_the_lists_query_for_staff_only(client, shop, returns, tokens):
    email = f"csv-{uuid.uuid4().hex[:8]}@example.com"
    small, _ = await returns.create(await shop.order(email_addr=email))
    big, _ = await returns.create(await shop.order(unit_price=30000, email_addr=email))
    staff = await tokens.staff("finance")

    r = await export(client, staff, q=email)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="returns-\d{8}-\d{6}\.csv"', r.headers["content-disposition"])
    assert r.headers["cache-control"] == "no-store"
    got = rows_of(r.text)
    assert {x["id"] for x in got} == {small["id"], big["id"]}
    assert next(x for x in got if x["id"] == big["id"])["status"] == "pending_approval"
    assert [x["id"] for x in rows_of((await export(client, staff, q=email, status="pending_approval")).text)] == [
        big["id"]
    ]
    listed = await client.get("/api/v1/returns", params={"q": email, "sort": "total"}, headers=staff)
    exported = rows_of((await export(client, staff, q=email, sort="total")).text)
    assert [x["id"] for x in exported] == [x["id"] for x in listed.json()["items"]] == [small["id"], big["id"]]
    assert [x["id"] for x in rows_of((await export(client, staff, q=email, sort="-total", limit=1)).text)] == [
        big["id"]
    ]

    shopper = await tokens.shopper((await shop.order()).number)
    assert (await export(client, shopper, q=email)).status_code == 401
    assert (await client.get("/api/v1/returns.csv")).status_code == 401
    assert (await export(client, await tokens.staff("warehouse"), q=email)).status_code == 200
    # The console's button: the same file for a signed-in session, the sign-in page for nobody.
    client.cookies.clear()
    assert (await client.get("/staff/returns.csv")).status_code == 303
    await console_sign_in(client, tokens, "warehouse")
    page = await client.get("/staff/returns.csv", params={"q": email, "status": "pending_approval"})
    assert page.status_code == 200 and [x["id"] for x in rows_of(page.text)] == [big["id"]]


async def test_csv_cells_a_spreadsheet_would_run_are_text(client, shop, returns, tokens, settings):
    for start in ("=", "+", "-", "@"):
        order = (await shop.order()).model_copy(update={"number": f"{start}1+1-{uuid.uuid4().hex[:6]}"})
        async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
            await upsert_order(s, order)
        ret, _ = await returns.create(order)
        r = await export(client, await tokens.staff("admin"), q=order.number)
        (row,) = rows_of(r.text)
        assert row["id"] == ret["id"]
        assert row["order_number"] == "'" + order.number, row


async def test_sort_limit_and_offset_are_checked_naming_the_field(client, tokens):
    admin = await tokens.staff("admin")
    for path in ("/api/v1/returns", "/api/v1/returns.csv"):
        for params, field in (({"sort": "price"}, "query.sort"), ({"limit": 0}, "query.limit"),
                              ({"offset": -1}, "query.offset"), ({"status": "lost"}, "query.status"),
                              ({"attention": "maybe"}, "query.attention")):  # fmt: skip
            r = await client.get(path, params=params, headers=admin)
            assert r.status_code == 422, (path, params, r.text)
            assert [x["field"] for x in r.json()["detail"]] == [field]
    assert (await client.get("/api/v1/returns.csv", params={"limit": 10_001}, headers=admin)).status_code == 422


async def test_list_sorts_by_amount_and_creation(client, shop, returns, tokens):
    email = f"sort-{uuid.uuid4().hex[:8]}@example.com"
    made = [(await returns.create(await shop.order(unit_price=price, email_addr=email)))[0]["id"]
            for price in (2000, 1000, 3000)]  # fmt: skip
    staff = await tokens.staff("warehouse")

    async def order_of(sort: str) -> list[str]:
        r = await client.get("/api/v1/returns", params={"q": email, "sort": sort}, headers=staff)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert await order_of("total") == [made[1], made[0], made[2]]
    assert await order_of("-total") == [made[2], made[0], made[1]]
    assert await order_of("created_at") == made
    assert await order_of("-created_at") == made[::-1]


async def test_bulk_approve_approves_only_pending_returns_and_reports_each(client, shop, returns, tokens):
    pending = [(await returns.create(await shop.order(unit_price=30000)))[0] for _ in range(2)]
    shipped, shopper = await returns.create(await shop.order())
    assert {x["status"] for x in pending} == {"pending_approval"} and shipped["status"] == "awaiting_shipment"
    body = {"ids": [pending[0]["id"], shipped["id"], pending[1]["id"].lower(), "R-NOSUCH"]}

    for role in ("warehouse", "finance", "integration"):
        r = await client.post("/api/v1/returns/bulk-approve", json=body, headers=await tokens.staff(role))
        assert r.status_code == 403, (role, r.text)
    assert (await client.post("/api/v1/returns/bulk-approve", json=body, headers=shopper)).status_code == 401
    admin = await tokens.staff("admin")
    for bad, field in (({"ids": []}, "body.ids"), ({"ids": ["R-" + "X" * 70]}, "body.ids.0"), ({}, "body.ids"),
                       ({"ids": [f"R-{i}" for i in range(101)]}, "body.ids")):  # fmt: skip
        r = await client.post("/api/v1/returns/bulk-approve", json=bad, headers=admin)
        assert r.status_code == 422 and [x["field"] for x in r.json()["detail"]] == [field], r.text

    r = await client.post("/api/v1/returns/bulk-approve", json=body, headers=admin)
    assert r.status_code == 200, r.text
    results = {x["id"]: x for x in r.json()["results"]}
    assert list(results) == [pending[0]["id"], shipped["id"], pending[1]["id"], "R-NOSUCH"]
    assert results[pending[0]["id"]]["outcome"] == results[pending[1]["id"]]["outcome"] == "approved"
    assert results[shipped["id"]] | {"detail": ""} == {"id": shipped["id"], "outcome": "not_pending",
                                                       "status": "awaiting_shipment", "detail": ""}  # fmt: skip
    assert "awaiting_shipment" in results[shipped["id"]]["detail"]
    assert results["R-NOSUCH"]["outcome"] == "not_found" and results["R-NOSUCH"]["status"] is None
    for x in pending:
        assert await returns.wait_status(x["id"], shopper | await tokens.staff("admin"), "awaiting_shipment")
    again = await client.post("/api/v1/returns/bulk-approve", json={"ids": [pending[0]["id"]]}, headers=admin)
    assert again.json()["results"][0]["outcome"] == "not_pending"  # approved once, never twice


async def test_console_list_is_a_sortable_table_with_a_confirmed_bulk_approval(client, shop, returns, tokens):
    email = f"bulk-{uuid.uuid4().hex[:8]}@example.com"
    ids = [(await returns.create(await shop.order(unit_price=30000, email_addr=email)))[0]["id"] for _ in range(2)]
    await console_sign_in(client, tokens, "admin", name="bulk-admin")
    csrf = client.cookies.get("staff_csrf")
    page = await client.get("/staff/returns", params={"q": email, "sort": "-total"})
    assert page.status_code == 200
    text = page.text
    assert '<table class="returns"' in text and 'aria-sort="descending"' in text
    assert f"/staff/returns.csv?q={email.replace('@', '%40')}&amp;sort=-total" in text
    assert all(f'id="select-{rid}"' in text for rid in ids)
    assert 'aria-label="Consoles"' in text and 'aria-label="Pages of results"' in text

    back = f"/staff/returns?q={email}"
    step = await client.post("/staff/returns/bulk-approve", data={"csrf": csrf, "back": back, "id": ids})
    assert step.status_code == 200 and 'id="bulk-confirm"' in step.text  # a confirmation first: nothing approved
    for rid in ids:
        assert (await returns.get(rid, await tokens.staff("admin")))["status"] == "pending_approval"
    done = await client.post(
        "/staff/returns/bulk-approve", data={"csrf": csrf, "back": back, "id": ids, "confirm": "yes"}
    )
    assert done.status_code == 200, done.text
    assert "2 of 2 approved." in done.text and done.text.count('data-outcome="approved"') == 2

    none = await client.post("/staff/returns/bulk-approve", data={"csrf": csrf, "back": back})
    assert none.status_code == 422 and "Select at least one return" in none.text
    finance_client_denied = await client.post("/staff/returns/bulk-approve", data={"back": back, "id": ids})
    assert finance_client_denied.status_code == 403  # no CSRF token


async def test_an_empty_reject_reason_is_shown_in_the_open_section_of_its_row(client, shop, returns, tokens):
    email = f"reject-{uuid.uuid4().hex[:8]}@example.com"
    rid = (await returns.create(await shop.order(unit_price=30000, email_addr=email)))[0]["id"]
    await console_sign_in(client, tokens, "admin")
    csrf = client.cookies.get("staff_csrf")
    r = await client.post(
        f"/staff/returns/{rid}/reject", data={"csrf": csrf, "reason": " ", "back": f"/staff/returns?q={email}"}
    )
    assert r.status_code == 422
    assert f'<details id="reject-step-{rid}" open>' in r.text  # the section it was typed in, opened
    assert f'id="reason-error-{rid}">Required.' in r.text and 'aria-invalid="true" autofocus' in r.text
    assert f'id="row-{rid}"' in r.text  # still the list, where the admin was looking
    r = await client.post(
        f"/staff/returns/{rid}/reject", data={"csrf": csrf, "reason": "", "back": f"/staff/returns/{rid}"}
    )
    assert r.status_code == 422 and f'<details id="reject-step-{rid}" open>' in r.text and "<hgroup>" in r.text
    # Approving a return that no longer waits: the reason in the approve section of the row.
    r = await client.post(f"/staff/returns/{rid}/approve", data={"csrf": csrf, "back": f"/staff/returns?q={email}"})
    assert r.status_code == 303
    r = await client.post(f"/staff/returns/{rid}/approve", data={"csrf": csrf, "back": f"/staff/returns?q={email}"})
    assert r.status_code == 409 and f'id="approve-error-{rid}"' not in r.text  # no longer pending: no section,
    assert f'id="row-error-{rid}"' in r.text and "this needs pending_approval" in r.text  # the reason at the top


async def test_finance_sees_the_order_its_payment_and_refunds_beside_the_review(client, shop, returns, tokens):
    order = await shop.order(quantity=3, unit_price=4000)
    warehouse = await tokens.staff("warehouse")
    first, headers = await returns.create(order, line(quantity=1))
    await returns.deliver(first, headers)
    inspect = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True}]}
    assert (
        await client.post(f"/api/v1/returns/{first['id']}/inspection", json=inspect, headers=warehouse)
    ).status_code == 200
    await returns.wait_status(first["id"], headers, "completed")
    second, _ = await returns.create(order, line(quantity=2, reason="defective"))
    await returns.deliver(second, headers)
    inspect = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "damaged", "restock": False}]}
    assert (
        await client.post(f"/api/v1/returns/{second['id']}/inspection", json=inspect, headers=warehouse)
    ).status_code == 200
    await returns.wait_status(second["id"], headers, "pending_refund_review")

    await console_sign_in(client, tokens, "finance")
    for path in ("/staff/finance", f"/staff/returns/{second['id']}"):
        page = html.unescape((await client.get(path)).text)
        item = page[page.index(second["id"]) :]
        item = item[: item.index("</article>")]  # the review, not the timeline (the workflow's own words)
        assert 'Order total</dt><dd class="order-total">120.00 EUR' in item
        assert "Visa ending in 4242" in item
        assert 'Already refunded on this order</dt>\n  <dd class="refunded">40.00 EUR' in item
        assert "line L1 was partly accepted at inspection (1 of 2)" in item and "was refused" not in item
    pt = html.unescape((await client.get("/staff/finance?lang=pt")).text)
    assert "o artigo L1 foi aceite em parte na inspeção (1 de 2)" in pt and "Visa terminado em 4242" in pt


async def test_a_store_credit_only_review_is_not_a_refund_of_nothing(client, shop, returns, tokens):
    order = await shop.order(quantity=2, unit_price=4000)
    ret, headers = await returns.create(order, line(quantity=2, resolution="store_credit"))
    await returns.deliver(ret, headers)
    inspect = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "opened", "restock": True}]}
    assert (
        await client.post(
            f"/api/v1/returns/{ret['id']}/inspection", json=inspect, headers=await tokens.staff("warehouse")
        )
    ).status_code == 200
    await returns.wait_status(ret["id"], headers, "pending_refund_review")
    await console_sign_in(client, tokens, "finance")
    page = html.unescape((await client.get("/staff/finance")).text)
    item = page[page.index(f'id="review-{ret["id"]}"') :]
    item = item[: item.index("</article>")]
    assert 'Store credit only</dt><dd class="credit-only">40.00 EUR' in item
    assert "Refund:" not in item and 'class="amount"' not in item  # it was "Refund: 0.00 EUR"
