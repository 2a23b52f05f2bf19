"""Staff accounts through their pages: an invitation's e-mailed link, signing in with a password, the lockout,
disabling, and reset links that work once and expire. Mail is read from the real SMTP sink of tests/conftest.py."""

from __future__ import annotations

import asyncio
import email
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, text, update

from api import staff_accounts
from api.auth import hash_token
from api.main import create_app
from db.engine import get_sessionmaker
from db.models import StaffAccount, StaffAccountToken, StaffSession
from settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "correct horse battery staple"
LINK = re.compile(r"http\S+/staff/password\?token=(rvl_[\w-]+)")


@pytest_asyncio.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await client.get("/staff/login")  # the staff area's CSRF cookie
        yield client


def csrf(http: httpx.AsyncClient) -> str:
    return http.cookies.get("staff_csrf") or ""


def new_email() -> str:
    return f"ana.{uuid.uuid4().hex[:8]}@shop.example"


async def mail_to(mail_dir: Path, address: str, kind: str, count: int = 1) -> list[Message]:
    """The staff e-mails of this kind the sink holds for `address`, once it holds `count` of them."""
    for _ in range(200):
        found = [email.message_from_bytes(p.read_bytes()) for p in sorted(mail_dir.glob("*.eml"))]
        mine = [m for m in found if m["To"] == address and m["X-Reverso-Kind"] == kind]
        if len(mine) >= count:
            return mine
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} e-mail reached {address}")


def link_in(msg: Message) -> str:
    found = LINK.search(msg.get_payload(decode=True).decode())  # type: ignore[union-attr]
    assert found, "the e-mail carries no link"
    return found.group(1)


async def invited(settings: Settings, mail_dir: Path, roles: tuple[str, ...] = ("warehouse",)) -> tuple[str, str]:
    """Invite a new person as `reverso staff invite` does; (their e-mail, the token of the link they got)."""
    address = new_email()
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        account, token = await staff_accounts.invite(s, address, roles, "Ana Sousa")
    await staff_accounts.mail_link(settings, account, "invite", token)
    return address, link_in((await mail_to(mail_dir, address, "staff_invite"))[-1])


async def set_password(http: httpx.AsyncClient, token: str, password: str = PASSWORD) -> httpx.Response:
    form = {"csrf": csrf(http), "token": token, "password": password, "confirm": password}
    return await http.post("/staff/password", data=form)


async def sign_in(http: httpx.AsyncClient, address: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/staff/login", data={"csrf": csrf(http), "email": address, "password": password})


async def sessions_of(settings: Settings, address: str) -> int:
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        found = await s.execute(select(StaffSession.id_hash).join(StaffAccount, StaffAccount.id == StaffSession.account_id)
                                .where(StaffAccount.email == address))  # fmt: skip
        return len(found.all())


async def test_an_invited_person_sets_a_password_from_the_emailed_link_and_signs_in(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    form = await http.get(f"/staff/password?token={token}")
    assert form.status_code == 200 and address in form.text and 'autocomplete="new-password"' in form.text
    saved = await set_password(http, token)
    assert saved.status_code == 200 and "Your password is saved" in saved.text
    signed = await sign_in(http, address.upper())  # the address is compared lower-cased
    assert signed.status_code == 303 and signed.headers["location"] == "/staff"
    assert signed.cookies.get("staff_session", "").startswith("rvc_")
    assert await sessions_of(settings, address) == 1


async def reset_links(settings: Settings, address: str) -> int:
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        found = await s.execute(select(StaffAccountToken.token_hash)
                                .join(StaffAccount, StaffAccount.id == StaffAccountToken.account_id)
                                .where(StaffAccount.email == address, StaffAccountToken.purpose == "reset"))  # fmt: skip
        return len(found.all())


async def test_a_wrong_password_or_an_unknown_address_is_one_answer(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    await set_password(http, token)
    wrong = await sign_in(http, address, PASSWORD + "!")
    unknown = await sign_in(http, new_email())
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an account" in wrong.text and "do not match an account" in unknown.text
    assert "staff_session" not in wrong.cookies


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    await set_password(http, token)
    answers = [(await sign_in(http, address, f"wrong password {n}")).status_code for n in range(4)]
    assert answers == [401] * 4
    locking = await sign_in(http, address, "wrong password 5")
    assert locking.status_code == 429 and 890 <= int(locking.headers["Retry-After"]) <= 900
    right = await sign_in(http, address)
    assert right.status_code == 429 and "staff_session" not in right.cookies
    assert "Try again in 15 minutes" in right.text and 0 < int(right.headers["Retry-After"]) <= 900
    http.cookies.set("lang", "pt")
    assert "Tente de novo dentro de 15 minutos" in (await sign_in(http, address)).text
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:  # the 15 minutes pass
        await s.execute(update(StaffAccount).where(StaffAccount.email == address)
                        .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    assert (await sign_in(http, address)).status_code == 303


async def test_guesses_sent_at_once_get_no_more_than_four_wrong_answers(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    await set_password(http, token)
    answers = [
        r.status_code for r in await asyncio.gather(*(sign_in(http, address, f"guess {n:03}") for n in range(12)))
    ]
    assert sorted(answers) == [401] * 4 + [429] * 8  # the fifth failure locks; the rest learn nothing
    assert (await sign_in(http, address)).status_code == 429


async def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir, ("finance", "warehouse"))
    await set_password(http, token)
    assert (await sign_in(http, address)).status_code == 303
    assert await sessions_of(settings, address) == 1
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        assert await staff_accounts.disable(s, address) is not None
    assert await sessions_of(settings, address) == 0
    assert (await sign_in(http, address)).status_code == 401


async def test_a_reset_link_works_once_and_expires(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    await set_password(http, token)
    assert (await http.get(f"/staff/password?token={token}")).status_code == 410  # the invitation was used
    asked = await http.post("/staff/password/forgot", data={"csrf": csrf(http), "email": address})
    nobody = await http.post("/staff/password/forgot", data={"csrf": csrf(http), "email": new_email()})
    assert asked.status_code == nobody.status_code == 200
    assert asked.text.replace(csrf(http), "") == nobody.text.replace(csrf(http), "")  # no hint who has an account
    reset = link_in((await mail_to(mail_dir, address, "staff_reset"))[-1])
    again = await http.post("/staff/password/forgot", data={"csrf": csrf(http), "email": address})
    assert again.status_code == 200 and await reset_links(settings, address) == 1  # one e-mail a minute at most
    assert (await set_password(http, reset, "a brand new password")).status_code == 200
    assert (await set_password(http, reset, "and another password")).status_code == 410
    assert (await sign_in(http, address)).status_code == 401
    assert (await sign_in(http, address, "a brand new password")).status_code == 303

    await http.post("/staff/password/forgot", data={"csrf": csrf(http), "email": address})
    late = link_in((await mail_to(mail_dir, address, "staff_reset", count=2))[-1])
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:  # the hour passes
        await s.execute(update(StaffAccountToken).where(StaffAccountToken.token_hash == hash_token(late))
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    gone = await http.get(f"/staff/password?token={late}")
    assert gone.status_code == 410 and "does not work any more" in gone.text
    assert (await set_password(http, late, "yet another password")).status_code == 410
    assert (await sign_in(http, address, "a brand new password")).status_code == 303


async def test_link_tokens_are_stored_only_as_hashes_and_cannot_be_guessed(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    assert len(token) >= 40  # 32 random bytes
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        stored = (await s.execute(text("SELECT t.*::text FROM staff_account_tokens t"))).scalars().all()
        row = await s.get(StaffAccountToken, hash_token(token))
    assert row is not None and not any(token in line for line in stored)
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await http.get(f"/staff/password?token={near}")).status_code == 410
    assert (await set_password(http, near)).status_code == 410
    assert (await http.get(f"/staff/password?token={token}")).status_code == 200


@pytest.mark.parametrize(
    ("password", "confirm", "why"),
    [("short one", "short one", "at least 12 characters"), ("a" * 20, "a" * 20, "one character repeated"),
     ("x" * 257, "x" * 257, "at most 256 characters"), (PASSWORD, PASSWORD + "?", "not the same")],
)  # fmt: skip
async def test_a_refused_password_says_why_and_keeps_the_link(http, settings, mail_dir, password, confirm, why):
    address, token = await invited(settings, mail_dir)
    form = {"csrf": csrf(http), "token": token, "password": password, "confirm": confirm}
    refused = await http.post("/staff/password", data=form)
    assert refused.status_code == 422 and why in refused.text
    assert (await set_password(http, token)).status_code == 200


async def test_the_forms_need_the_csrf_token(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    await set_password(http, token)
    forged = await http.post("/staff/login/password", data={"csrf": "forged", "email": address, "password": PASSWORD})
    assert forged.status_code == 403


async def test_an_account_session_opens_the_console_and_names_the_person(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir, ("admin",))
    await set_password(http, token)
    await sign_in(http, address)
    home = await http.get("/staff")
    assert home.status_code == 303 and home.headers["location"] == "/staff/returns"
    page = await http.get("/staff/returns")
    assert page.status_code == 200 and "Ana Sousa" in page.text
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await staff_accounts.disable(s, address)
    assert (await http.get("/staff/returns")).headers.get("location") == "/staff/login"


async def test_each_role_of_an_account_opens_its_pages_and_a_granted_role_counts_at_once(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir, ("warehouse",))
    await set_password(http, token)
    assert (await sign_in(http, address)).headers["location"] == "/staff"
    assert (await http.get("/staff")).headers["location"] == "/staff/warehouse"
    floor = await http.get("/staff/warehouse")
    assert floor.status_code == 200 and 'id="nav-finance"' not in floor.text
    assert (await http.get("/staff/finance")).status_code == 403
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        granted = await staff_accounts.grant(s, address, ["finance"])
        assert granted is not None and granted.roles == ("warehouse", "finance")
    desk = await http.get("/staff/finance")  # the same session, at its next request
    assert desk.status_code == 200
    assert 'id="nav-warehouse"' in desk.text and 'id="nav-finance"' in desk.text
    assert "Ana Sousa (warehouse, finance)" in desk.text
    assert (await http.get("/staff/warehouse")).status_code == 200
    listed = await http.get("/staff/returns")
    assert listed.status_code == 200 and 'id="bulk"' not in listed.text  # approving stays the admin's


async def test_the_older_sign_in_address_is_the_same_page(http, settings, mail_dir):
    address, token = await invited(settings, mail_dir)
    await set_password(http, token)
    page = await http.get("/staff/login/password")
    assert page.status_code == 200 and 'action="/staff/login"' in page.text and 'id="token"' not in page.text
    form = {"csrf": csrf(http), "email": address, "password": PASSWORD}
    assert (await http.post("/staff/login/password", data=form)).status_code == 303
