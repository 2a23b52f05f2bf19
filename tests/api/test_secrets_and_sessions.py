"""Secrets reach only who may read them, and sessions end when they should (issue 14, findings 5 and 7).

A store-credit code spends like cash: its shopper, finance and the shop's checkout read it, admin and warehouse its
last four characters. A shopper never reads the staff's screening notes, line or review notes, or staff names.
Console and portal sessions are server-side ids that sign-out and token revocation end; their cookies are Secure
behind TLS, and what a signed-in visitor reads is never cached.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie

import httpx
import pytest

from api.main import create_app
from tests.api.api_helpers import STAFF_PASSWORD, console_sign_in, line, portal_order_page
from tests.support import services

pytestmark = pytest.mark.asyncio(loop_scope="session")
POLICY = "/api/v1/policy"


def inspection(accepted: int, note: str = "", condition: str = "new") -> dict:
    return {"lines": [{"line_id": "L1", "accepted_quantity": accepted, "condition": condition, "restock": True,
                       "note": note}]}  # fmt: skip


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie of the answer by cookie name, as sent (attributes included)."""
    return {next(iter(SimpleCookie(v))): v for v in response.headers.get_list("set-cookie")}


# --- finding 5: who reads what ---------------------------------------------------------------------


async def credit_return(client, shop, returns, tokens) -> tuple[str, dict[str, str], str]:
    """A store-credit return completed through the API: (id, the shopper's headers, its code)."""
    ret, shopper = await returns.create(await shop.order(), line(resolution="store_credit"))
    await returns.deliver(ret, shopper)
    r = await client.post(f"/api/v1/returns/{ret['id']}/inspection", json=inspection(1),
                          headers=await tokens.staff("warehouse"))  # fmt: skip
    assert r.status_code == 200, r.text
    done = await returns.wait_status(ret["id"], shopper, "completed")
    assert done["store_credit_code"], done
    return ret["id"], shopper, done["store_credit_code"]


async def test_a_store_credit_code_goes_to_its_shopper_finance_and_integration_only(client, shop, returns, tokens):
    rid, shopper, code = await credit_return(client, shop, returns, tokens)
    readers = {"shopper": shopper, **{role: await tokens.staff(role) for role in ("finance", "integration")}}
    hidden_from = {role: await tokens.staff(role) for role in ("admin", "warehouse")}
    for who, headers in {**readers, **hidden_from}.items():
        got = await returns.get(rid, headers)
        assert got["store_credit_code"] == (code if who in readers else None), who
        assert got["store_credit_code_last4"] == code[-4:], who
    for who, headers in {**readers, **hidden_from}.items():
        if who == "shopper":
            continue
        found = await client.get("/api/v1/returns", params={"q": rid}, headers=headers)
        assert found.status_code == 200, found.text
        [item] = found.json()["items"]
        assert (item["store_credit_code"], item["store_credit_code_last4"]) == (
            code if who in readers else None,
            code[-4:],
        ), who
    # The consoles show the last four to every role, the code to none.
    for role in ("admin", "warehouse", "finance"):
        client.cookies.clear()
        await console_sign_in(client, tokens, role)
        page = await client.get(f"/staff/returns/{rid}")
        assert page.status_code == 200 and code[-4:] in page.text and code not in page.text, role
    client.cookies.clear()


async def test_the_estimate_gives_the_shopper_no_screening_notes(client, shop, tokens):
    admin = await tokens.staff("admin")
    before = (await client.get(POLICY, headers=admin)).json()["document"]
    addr = f"listed-{uuid.uuid4().hex[:6]}@example.com"
    r = await client.put(POLICY, json={**before, "blocked_emails": [*before["blocked_emails"], addr]}, headers=admin)
    assert r.status_code == 200, r.text
    try:
        order = await shop.order(email_addr=addr)
        est = await client.post("/api/v1/portal/estimate", json={"lines": [line()]},
                                headers=await tokens.shopper(order.number, addr))  # fmt: skip
        assert est.status_code == 200, est.text
        assert est.json()["review_notes"] == []
        assert "a person will review this return before it goes ahead" in est.json()["reasons"]
        assert "block list" not in est.text and addr not in est.text
    finally:
        assert (await client.put(POLICY, json=before, headers=admin)).status_code == 200


async def reviewed_return(client, shop, returns, tokens) -> dict:
    """A return an admin approved, the warehouse inspected with a note, and finance reviewed with a note: the
    staff's names and notes are all in its history."""
    tag = uuid.uuid4().hex[:6]
    staff = {role: f"{first}-{role}-{tag}" for role, first in (("admin", "ines"), ("warehouse", "rui"),
                                                              ("finance", "marta"))}  # fmt: skip
    headers = {role: await tokens.staff(role, name) for role, name in staff.items()}
    notes = {"line": f"smells of smoke {tag}", "review": f"known abuser, pay half {tag}"}
    order = await shop.order(quantity=2, unit_price=15000)  # above the auto-approve limit: an admin decides
    ret, shopper = await returns.create(order, line(quantity=2, reason="defective"))
    assert ret["status"] == "pending_approval", ret
    rid = ret["id"]
    assert (await client.post(f"/api/v1/returns/{rid}/approve", headers=headers["admin"])).status_code == 200
    ret = await returns.wait_status(rid, shopper, "awaiting_shipment")
    await returns.deliver(ret, shopper)
    r = await client.post(f"/api/v1/returns/{rid}/inspection", json=inspection(1, notes["line"], "damaged"),
                          headers=headers["warehouse"])  # fmt: skip
    assert r.status_code == 200, r.text
    await returns.wait_status(rid, shopper, "pending_refund_review")
    r = await client.post(f"/api/v1/returns/{rid}/refund-review", headers=headers["finance"],
                          json={"approve": True, "amount": 7500, "note": notes["review"]})  # fmt: skip
    assert r.status_code == 200, r.text
    await returns.wait_status(rid, shopper, "completed")
    return {"rid": rid, "shopper": shopper, "order": order, "staff": staff, "notes": notes, "headers": headers}


def leaks(text: str, done: dict) -> list[str]:
    return [x for x in (*done["staff"].values(), *done["notes"].values()) if x in text]


async def test_a_shopper_reads_roles_not_staff_names_and_no_staff_notes(client, shop, returns, tokens):
    done = await reviewed_return(client, shop, returns, tokens)
    rid = done["rid"]
    mine = await client.get(f"/api/v1/returns/{rid}", headers=done["shopper"])
    assert mine.status_code == 200 and not leaks(mine.text, done), leaks(mine.text, done)
    view = mine.json()
    assert view["review_notes"] == [] and [x["note"] for x in view["lines"]] == [""]
    assert all(t["by"] == "" and t["note"] == "" for t in view["timeline"]), view["timeline"]
    messages = [t["message"] for t in view["timeline"]]
    assert "approved by the shop" in messages, messages
    assert view["status"] == "completed" and view["amounts"]["refund_total"] == 7500

    # Staff still read who did it and why.
    staff_view = await returns.get(rid, done["headers"]["admin"])
    assert [x["note"] for x in staff_view["lines"]] == [done["notes"]["line"]]
    staff_text = str(staff_view["timeline"])
    assert done["staff"]["admin"] in staff_text and done["notes"]["review"] in staff_text, staff_text

    # The portal's pages render the same shopper's view.
    await portal_order_page(client, done["order"])
    for path in (f"/portal/returns/{rid}", f"/portal/returns/{rid}/status"):
        page = await client.get(path)
        assert page.status_code == 200 and not leaks(page.text, done), (path, leaks(page.text, done))
        assert "approved by the shop" in page.text, path
    client.cookies.clear()


async def test_no_e_mail_to_the_shopper_names_staff_or_carries_their_notes(client, shop, returns, tokens, mailbox):
    done = await reviewed_return(client, shop, returns, tokens)
    for _ in range(200):  # the completed e-mail goes out after the read model says completed
        if "completed" in mailbox.kinds(done["rid"]):
            break
        await asyncio.sleep(0.05)
    kinds = mailbox.kinds(done["rid"])
    assert {"submitted", "label", "received", "completed"} <= set(kinds), kinds
    for kind in kinds:
        body = mailbox.body(done["rid"], kind)
        assert not leaks(body, done), (kind, leaks(body, done), body)


# --- finding 7: sessions ---------------------------------------------------------------------------


async def test_the_console_cookie_is_a_session_id_that_opens_no_api(client, tokens):
    signed_in = await console_sign_in(client, tokens, "admin")
    session = client.cookies.get("staff_session")
    assert session and session.startswith("rvc_") and STAFF_PASSWORD not in str(signed_in.headers)
    assert (await client.get("/staff/returns")).status_code == 200
    # The cookie opens the consoles, and nothing else.
    as_bearer = {"Authorization": f"Bearer {session}"}
    assert (await client.get("/api/v1/returns", headers=as_bearer)).status_code == 401
    client.cookies.clear()


async def test_signing_out_of_the_console_ends_its_session(client, tokens):
    await console_sign_in(client, tokens, "warehouse")
    session = client.cookies.get("staff_session")
    out = await client.post("/staff/logout", data={"csrf": client.cookies.get("staff_csrf")})
    assert out.status_code == 303 and out.headers["location"] == "/staff/login"
    client.cookies.set("staff_session", session)  # kept by whoever copied it before the sign-out
    again = await client.get("/staff/warehouse")
    assert again.status_code == 303 and again.headers["location"] == "/staff/login"
    assert (await client.get("/api/v1/returns", headers={"Authorization": f"Bearer {session}"})).status_code == 401
    client.cookies.clear()


async def reverso(settings, *args: str) -> str:
    """The `reverso` command, as an operator runs it, against the tests' database."""
    env = {**os.environ, "REVERSO_DATABASE_URL": settings.resolved_database_url(),
           "REVERSO_STATE_DIR": str(settings.state_dir)}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cli", *args, cwd=services.ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, out.decode() + err.decode()
    return out.decode()


async def test_an_api_token_opens_no_console_and_stays_good_for_the_api(client, tokens, settings):
    """The consoles take people's accounts only (issue 18): a live token pasted anywhere into the sign-in form is
    refused, and it still works as the bearer token of the shop's scripts until `reverso token revoke`."""
    name = f"script-{uuid.uuid4().hex[:6]}"
    admin = await tokens.staff("admin", name)
    secret = admin["Authorization"].removeprefix("Bearer ")
    await client.get("/staff/login")
    csrf = client.cookies.get("staff_csrf")
    for form in ({"token": secret}, {"email": secret, "password": secret}, {"email": name, "password": secret}):
        r = await client.post("/staff/login", data={**form, "csrf": csrf})
        assert r.status_code == 401 and "staff_session" not in client.cookies, form
        assert 'id="login-error"' in r.text
    assert (await client.get("/staff/returns")).headers["location"] == "/staff/login"
    assert (await client.get("/api/v1/returns", headers=admin)).status_code == 200
    assert "revoked 1 token(s)" in await reverso(settings, "token", "revoke", "--name", name)
    assert (await client.get("/api/v1/returns", headers=admin)).status_code == 401
    client.cookies.clear()


async def test_a_shopper_signs_out_through_the_api(client, shop, tokens):
    order = await shop.order()
    shopper = await tokens.shopper(order.number, order.email)
    assert (await client.get("/api/v1/portal/order", headers=shopper)).status_code == 200
    out = await client.delete("/api/v1/portal/session", headers=shopper)
    assert out.status_code == 204 and out.content == b""
    assert (await client.get("/api/v1/portal/order", headers=shopper)).status_code == 401
    assert (await client.delete("/api/v1/portal/session", headers=shopper)).status_code == 401
    assert (await client.delete("/api/v1/portal/session")).status_code == 401


async def test_a_shopper_signs_out_of_the_portal_pages(client, shop):
    order = await shop.order()
    page = await portal_order_page(client, order)
    assert page.status_code == 200 and 'action="/portal/logout"' in page.text and 'id="sign-out"' in page.text
    session = client.cookies.get("portal_session")
    refused = await client.post("/portal/logout", data={"csrf": "not-the-cookie"})
    assert refused.status_code == 403
    assert (await client.get("/portal/order")).status_code == 200  # the refused sign-out changed nothing
    out = await client.post("/portal/logout", data={"csrf": client.cookies.get("portal_csrf")})
    assert out.status_code == 303 and out.headers["location"] == "/portal"
    assert "portal_session" not in client.cookies
    client.cookies.set("portal_session", session)  # a copy kept from before
    again = await client.get("/portal/order")
    assert again.status_code == 303 and again.headers["location"] == "/portal"
    assert (await client.get("/api/v1/portal/order", headers={"Authorization": f"Bearer {session}"})).status_code == 401
    client.cookies.clear()


@asynccontextmanager
async def app_client(settings, base_url: str = "http://test", **changes):
    app = create_app(settings.model_copy(update=changes))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as http:
        yield http


async def test_cookies_are_secure_when_the_public_url_is_https(settings, shop, tokens):
    """A TLS proxy in front, speaking plain HTTP to the API: the request looks like http, the public URL does not."""
    order = await shop.order()
    async with app_client(settings, public_url="https://returns.example.com") as c:
        find = await c.get("/portal?lang=pt")
        cookies = set_cookies(find)
        csrf = c.cookies.get("portal_csrf")
        signed_in = await c.post("/portal", data={"order_number": order.number, "email": order.email, "csrf": csrf},
                                 headers={"Cookie": f"portal_csrf={csrf}"})  # fmt: skip
        assert signed_in.status_code == 303, signed_in.text
        cookies |= set_cookies(signed_in)
        login = await c.get("/staff/login")
        cookies |= set_cookies(login)
        csrf = c.cookies.get("staff_csrf")
        address = await tokens.account("admin")
        staff = await c.post("/staff/login", data={"email": address, "password": STAFF_PASSWORD, "csrf": csrf},
                             headers={"Cookie": f"staff_csrf={csrf}"})  # fmt: skip
        assert staff.status_code == 303, staff.text
        cookies |= set_cookies(staff)
    assert set(cookies) >= {"lang", "portal_csrf", "portal_session", "staff_csrf", "staff_session"}, cookies
    for header in cookies.values():
        assert "secure" in header.lower(), header
    # Over TLS itself the cookies are Secure whatever the public URL says; over plain HTTP with an http public URL
    # they are not, or a browser would refuse them (reverso dev on localhost).
    async with app_client(settings, base_url="https://test") as c:
        assert "secure" in set_cookies(await c.get("/portal"))["portal_csrf"].lower()
    async with app_client(settings) as c:
        assert "secure" not in set_cookies(await c.get("/portal"))["portal_csrf"].lower()


async def test_what_a_signed_in_visitor_reads_is_never_cached(client, shop, returns, tokens):
    ret, shopper = await returns.create(await shop.order())
    rid = ret["id"]
    admin = await tokens.staff("admin")
    answers = {
        "session": await client.post("/api/v1/portal/session", json={"order_number": ret["order_number"],
                                                                     "email": "shopper@example.com"}),
        "order": await client.get("/api/v1/portal/order", headers=shopper),
        "return": await client.get(f"/api/v1/returns/{rid}", headers=shopper),
        "staff return": await client.get(f"/api/v1/returns/{rid}", headers=admin),
        "staff list": await client.get("/api/v1/returns", headers=admin),
    }  # fmt: skip
    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    for path in ("/portal/order", f"/portal/returns/{rid}", f"/portal/returns/{rid}/status"):
        answers[path] = await client.get(path)
    client.cookies.clear()
    await console_sign_in(client, tokens, "admin")
    for path in (f"/staff/returns/{rid}", "/staff/returns"):
        answers[path] = await client.get(path)
    client.cookies.clear()
    for what, r in answers.items():
        assert r.status_code == 200, (what, r.text)
        assert r.headers.get("cache-control") == "no-store", what
