"""How an order was paid, as finance's review shows it: read from the payment peer (localstripe), kept, and
"unknown" (never an error) while the peer does not answer."""

from __future__ import annotations

import socket

import pytest

from api import payment_method as pm

pytestmark = pytest.mark.asyncio(loop_scope="session")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_card_brand_and_last_four_come_from_the_payment_peer(shop, settings):
    order = await shop.order()
    found = await pm.payment_method(settings, order.payment.reference)
    assert (found.brand, found.last4, found.known) == ("visa", "4242", True)
    down = settings.model_copy(update={"stripe_api_base": f"http://127.0.0.1:{closed_port()}"})
    assert await pm.payment_method(down, order.payment.reference) == found  # kept: a paid method never changes


async def test_a_peer_that_is_down_or_an_unknown_payment_is_unknown_not_an_error(shop, settings):
    order = await shop.order()
    down = settings.model_copy(update={"stripe_api_base": f"http://127.0.0.1:{closed_port()}"})
    assert await pm.payment_method(down, order.payment.reference) == pm.UNKNOWN
    # Not asked again at once (each page would wait for the timeout), then asked once the pause is over.
    assert await pm.payment_method(settings, order.payment.reference) == pm.UNKNOWN
    pm._failed[order.payment.reference] = 0.0
    assert (await pm.payment_method(settings, order.payment.reference)).last4 == "4242"
    assert await pm.payment_method(settings, "pi_nosuch/../../v1/charges") == pm.UNKNOWN
