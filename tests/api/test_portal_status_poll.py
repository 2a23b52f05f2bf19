"""The return page's status poll (issue 19): while nothing changed it answers 204, so htmx swaps nothing and the status
region announces a change only when there is one; the status itself lives in a region that stays in place."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.api.api_helpers import line, portal_order_page

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_status_poll_answers_204_until_the_return_changes(client, shop, returns):
    order = await shop.order()
    ret, headers = await returns.create(order, line())
    await returns.wait_status(ret["id"], headers, "awaiting_shipment")
    await portal_order_page(client, order)
    for _ in range(100):  # the label comes with the status poll: wait until the page shows it, then it holds
        page = (await client.get(f"/portal/returns/{ret['id']}")).text
        if 'id="label-link"' in page:
            break
        await asyncio.sleep(0.05)
    assert re.search(r'<p id="status-live" class="visually-hidden" aria-live="polite" aria-atomic="true">', page)
    poll = re.search(r'hx-get="(/portal/returns/[^"?]+/status\?seen=[0-9a-f]{16})"', page)
    assert poll, page
    same = await client.get(poll.group(1))
    assert same.status_code == 204 and same.text == ""

    await returns.deliver(ret, headers)  # the parcel arrives: the poll answers the new fragment
    changed = await client.get(poll.group(1))
    assert changed.status_code == 200
    assert 'id="status-live" hx-swap-oob="innerHTML"' in changed.text and "received" in changed.text
