"""The Exceptions queue in the staff console: each return with its code in words and the buttons its reader may
press, a second step that asks why, in English and Portuguese; strict CSP (no inline script)."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import console_sign_in, inbound_tracking
from tests.api.test_resolve import until_code

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def sent_back(returns, shop, admin) -> dict:
    ret, _ = await returns.create(await shop.order())
    for event in ("in_transit", "returned_to_sender"):
        assert (await returns.scan(inbound_tracking(ret), event)).status_code == 202
    await until_code(returns, ret["id"], admin, "returned_to_sender")
    return ret


async def test_the_queue_names_the_code_and_offers_each_role_its_buttons(client, shop, returns, tokens):
    admin = await tokens.staff("admin")
    rid = (await sent_back(returns, shop, admin))["id"]
    await console_sign_in(client, tokens, "finance")
    page = await client.get("/staff/exceptions")
    row = page.text.split(f'id="row-{rid}"')[1].split("</li>")[0]
    assert "Returned to the shopper" in row
    assert f'id="confirm-{rid}-refund_without_receipt"' in row and "Refund without receipt" in row
    assert f'id="confirm-{rid}-close"' not in row  # admin's
    assert "<details" in row and "<script>" not in page.text
    pt = await client.get("/staff/exceptions?lang=pt")
    row = pt.text.split(f'id="row-{rid}"')[1].split("</li>")[0]
    assert "Devolvida ao cliente" in row and "Reembolsar sem receção" in row
    detail = await client.get(f"/staff/returns/{rid}")
    assert f'id="confirm-{rid}-refund_without_receipt"' in detail.text
    client.cookies.clear()


async def test_an_admin_closes_a_return_from_the_queue_and_a_refusal_shows_on_its_page(client, shop, returns, tokens):
    admin = await tokens.staff("admin", "admin-rui")
    rid = (await sent_back(returns, shop, admin))["id"]
    await console_sign_in(client, tokens, "admin", name="Rui Admin")
    csrf = client.cookies.get("staff_csrf")
    url = f"/staff/returns/{rid}/resolve"
    forged = await client.post(url, data={"csrf": "forged", "action": "close", "note": "x"})
    assert forged.status_code == 403
    blank = await client.post(url, data={"csrf": csrf, "action": "close", "note": "", "back": "/staff/exceptions"})
    assert blank.status_code == 422 and 'id="action-error"' in blank.text and "note" in blank.text
    wrong = await client.post(url, data={"csrf": csrf, "action": "reopen", "note": "x"})
    assert wrong.status_code == 409 and "does not fit" in wrong.text
    done = await client.post(url, data={"csrf": csrf, "action": "close", "note": "kept by the shopper",
                                        "back": "/staff/exceptions"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/staff/exceptions"
    got = await returns.get(rid, admin)
    assert got["status"] == "completed"
    assert any(t["by"] == "Rui Admin" and t["note"] == "kept by the shopper" for t in got["timeline"])
    client.cookies.clear()
