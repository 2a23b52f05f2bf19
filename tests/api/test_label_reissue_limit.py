"""Past the policy's label_reissues_per_day, `POST /api/v1/returns/{id}/label` answers 429 with Retry-After (the
seconds until the oldest reissue of the last 24 hours ages out, as the workflow counts them), and the portal's
"Get a new label" button tells the shopper when to try again instead of failing."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import inbound_tracking

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_fourth_new_label_in_a_day_is_429_with_retry_after(client, shop, returns, tokens):
    ret, shopper = await returns.create(await shop.order())
    rid = ret["id"]
    for who in (shopper, shopper, await tokens.staff("warehouse")):  # staff reissues count too: each buys labels
        r = await client.post(f"/api/v1/returns/{rid}/label", headers=who)
        assert r.status_code == 200, r.text
    refused = await client.post(f"/api/v1/returns/{rid}/label", headers=shopper)
    assert refused.status_code == 429, refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert refused.json()["detail"].startswith("label: new labels were issued 3 times in the last 24 hours")
    got = await returns.get(rid, shopper)
    assert sum(s["status"] == "label_created" for s in got["shipments"]) == 1  # nothing more was made or voided


async def test_the_portal_button_says_when_a_new_label_can_be_had(client, shop, returns):
    ret, shopper = await returns.create(await shop.order())
    rid, first = ret["id"], inbound_tracking(ret)
    for _ in range(3):
        assert (await client.post(f"/api/v1/returns/{rid}/label", headers=shopper)).status_code == 200
    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    await client.get(f"/portal/returns/{rid}")
    page = await client.post(f"/portal/returns/{rid}/label", data={"csrf": client.cookies.get("portal_csrf")})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert 'id="label-wait"' in page.text and "You can ask for another one after" in page.text
    assert 'id="new-label-button"' in page.text and first not in page.text.split('id="tracking"')[1][:60]
    client.cookies.clear()
