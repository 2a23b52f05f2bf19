"""Portal sign-in limits hold when the attempts come all at once, and the sign-in page says how long to wait.

Each test signs in from client addresses of its own (the ASGI transport's client), so the per-client limit it
exhausts is not the one 127.0.0.1 uses for the other tests in the session.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest

from api.main import create_app
from settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="session")
SESSION = "/api/v1/portal/session"


def addresses(n: int) -> list[str]:
    """n client addresses no other test (nor a rerun against the same database) signs in from."""
    net = f"10.{random.randrange(40, 250)}.{random.randrange(256)}"
    return [f"{net}.{i + 1}" for i in range(n)]


@asynccontextmanager
async def clients(settings: Settings, addrs: list[str], **limits: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One app (as one API process) and a client per address."""
    app = create_app(settings.model_copy(update=limits))
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(a, 40000)), base_url="http://test")
            )
            for a in addrs
        ]


def sign_in(number: str, email: str) -> dict[str, str]:
    return {"order_number": number, "email": email}


def assert_locked(r: httpx.Response, settings: Settings) -> None:
    assert r.status_code == 429, r.text
    assert 0 < int(r.headers["Retry-After"]) <= settings.portal_failure_window_minutes * 60 + 1


@pytest.mark.parametrize("spread", ["one address", "thirty addresses"])
async def test_thirty_parallel_guesses_for_one_order_check_only_five(settings, shop, spread):
    order = await shop.order(email_addr="owner@example.com")
    addrs = addresses(1) * 30 if spread == "one address" else addresses(30)
    async with clients(settings, addrs) as cs:
        guesses = [sign_in(order.number, f"guess{i}@example.com") for i in range(29)]
        guesses.insert(random.randrange(30), sign_in(order.number, "owner@example.com"))
        answers = await asyncio.gather(*(c.post(SESSION, json=g) for c, g in zip(cs, guesses, strict=True)))
        statuses = Counter(r.status_code for r in answers)
        assert set(statuses) <= {200, 404, 429}, statuses
        # Exactly the limit of wrong e-mails were checked; every other guess was turned away unchecked.
        assert statuses[404] == settings.portal_failures_per_order, statuses
        for r in answers:
            if r.status_code == 429:
                assert_locked(r, settings)
        # And the order stays locked, for the right e-mail too and whoever asks.
        async with clients(settings, addresses(1)) as (other,):
            assert_locked(await other.post(SESSION, json=sign_in(order.number, "owner@example.com")), settings)


async def test_sixty_parallel_guesses_from_one_client_check_only_its_limit(settings, shop):
    order = await shop.order(email_addr="owner@example.com")
    (addr,) = addresses(1)
    async with clients(settings, [addr] * 60) as cs:
        # Every guess for another order, so only the per-client limit can stop them.
        numbers = ["X" + uuid.uuid4().hex[:10].upper() for _ in range(60)]
        guesses = [c.post(SESSION, json=sign_in(n, "a@example.com")) for c, n in zip(cs, numbers, strict=True)]
        answers = await asyncio.gather(*guesses)
        statuses = Counter(r.status_code for r in answers)
        assert statuses == {404: settings.portal_failures_per_client, 429: 60 - settings.portal_failures_per_client}
        # The client stays locked out, even with a right pair; other clients are not.
        assert_locked(await cs[0].post(SESSION, json=sign_in(order.number, "owner@example.com")), settings)
    async with clients(settings, addresses(1)) as (other,):
        assert (await other.post(SESSION, json=sign_in(order.number, "owner@example.com"))).status_code == 200


async def test_a_right_sign_in_does_not_count_against_the_limits(settings, shop):
    order = await shop.order(email_addr="owner@example.com")
    async with clients(settings, addresses(1) * 12, portal_failures_per_order=2, portal_failures_per_client=2) as cs:
        answers = await asyncio.gather(*(c.post(SESSION, json=sign_in(order.number, "owner@example.com")) for c in cs))
        assert [r.status_code for r in answers] == [200] * 12


@pytest.mark.parametrize(
    ("lang", "wait", "until_then"),
    [
        ("en", r"try again in (\d+) minutes?", "even the right order number and e-mail will not work"),
        ("pt", r"tente de novo daqui a (\d+) minutos?", "nem o número da encomenda e o e-mail certos"),
    ],
)
async def test_the_sign_in_page_says_how_long_to_wait(settings, shop, lang, wait, until_then):
    order = await shop.order(email_addr="owner@example.com")
    async with clients(settings, addresses(1), portal_failures_per_order=1) as (c,):
        c.headers["Accept-Language"] = "pt-PT" if lang == "pt" else "en"
        await c.get("/portal")
        form = {"order_number": order.number, "email": "wrong@example.com", "csrf": c.cookies.get("portal_csrf")}
        wrong = await c.post("/portal", data=form)
        assert wrong.status_code == 404 and not re.search(wait, wrong.text, re.IGNORECASE)
        locked = await c.post("/portal", data={**form, "email": "owner@example.com"})
        assert_locked(locked, settings)
        text = " ".join(locked.text.split())
        minutes = re.search(wait, text, re.IGNORECASE)
        assert minutes, text
        assert int(minutes.group(1)) == math.ceil(int(locked.headers["Retry-After"]) / 60)
        assert until_then in text, text


async def test_a_number_that_grows_when_upper_cased_is_counted_not_a_500(settings):
    # "ß" upper-cases to "SS" and "İ" to two characters: a valid 200-character number outgrew the key column.
    number = "ßİ" * 100
    async with clients(settings, addresses(1)) as (c,):
        for _ in range(2):  # the second attempt reads the failure the first one counted
            r = await c.post(SESSION, json=sign_in(number, "someone@example.com"))
            assert r.status_code == 404, r.text
