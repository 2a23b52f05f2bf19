"""The scans that move no return forward (pre_transit, out_for_delivery, returned_to_sender), through the local
carrier's signed webhook into a real return: logged once, never out of order, never un-returning a parcel."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import inbound_tracking
from tests.carriers.conftest import export_history
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def scans(returns, tracking: str, *events: str) -> None:
    for event in events:
        r = await returns.scan(tracking, event)
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": True, "matched": True}


async def settled_state(ts_env, returns, ret: dict, headers: dict, marker: str):
    """A final exception scan (always logged) shows when every scan before it has been handled."""
    await scans(returns, inbound_tracking(ret), "exception")
    for _ in range(200):
        got = await returns.get(ret["id"], headers)
        if any(marker in t["message"] for t in got["timeline"]):
            return got, await ts_env.client.get_workflow_handle(ret["id"]).query(ReturnWorkflow.get_state)
        import asyncio

        await asyncio.sleep(0.05)
    raise AssertionError(f"the closing scan never showed on {ret['id']}")


async def test_out_for_delivery_is_logged_once_and_late_scans_change_nothing(ep_returns, shop, ts_env, request):
    ret, headers = await ep_returns.create(await shop.order())
    tracking = inbound_tracking(ret)
    await scans(ep_returns, tracking, "in_transit", "out_for_delivery", "out_for_delivery", "pre_transit", "in_transit")
    got, state = await settled_state(ts_env, ep_returns, ret, headers, "carrier reported a problem")
    messages = [t["message"] for t in got["timeline"]]
    assert messages.count(f"parcel {tracking}: out for delivery") == 1
    assert not any("pre transit" in m for m in messages)  # it came after the parcel was moving
    assert got["status"] == state.status == "in_transit"
    await export_history(ts_env, request, ret["id"])


async def test_a_parcel_sent_back_to_the_shopper_is_marked_and_never_received(ep_returns, shop, ts_env, request):
    ret, headers = await ep_returns.create(await shop.order())
    tracking = inbound_tracking(ret)
    await scans(ep_returns, tracking, "in_transit")
    await ep_returns.wait_status(ret["id"], headers, "in_transit")
    # Back to the shopper, then "delivered" (to the shopper!), which must not count as received at the warehouse.
    await scans(ep_returns, tracking, "returned_to_sender", "delivered", "returned_to_sender")
    got, state = await settled_state(ts_env, ep_returns, ret, headers, "returned to you by the carrier")
    assert got["status"] == state.status == "in_transit"
    assert got["shipments"][0]["status"] == state.shipments[0].status == "returned_to_sender"
    sent_back = [t for t in state.timeline if t.code == "returned_to_shopper"]
    assert len(sent_back) == 1
    await export_history(ts_env, request, ret["id"])


async def test_pre_transit_is_logged_without_changing_the_status(ep_returns, shop, ts_env):
    ret, headers = await ep_returns.create(await shop.order())
    tracking = inbound_tracking(ret)
    await scans(ep_returns, tracking, "pre_transit", "pre_transit")
    got, state = await settled_state(ts_env, ep_returns, ret, headers, "carrier reported a problem")
    assert [t["message"] for t in got["timeline"]].count(f"parcel {tracking}: pre transit") == 1
    assert got["status"] == state.status == "awaiting_shipment"  # the shopper can still cancel


async def test_the_new_timeline_entries_read_in_portuguese() -> None:
    from api.i18n import translator
    from api.timeline_words import entry_text

    def pt(code: str, **params: str) -> str:
        return entry_text(translator("pt"), code, params, "EUR", "staff", lambda: "")

    assert pt("parcel_event", tracking="LC1", event="out_for_delivery") == "encomenda LC1: em distribuição"
    assert pt("returned_to_shopper", tracking="LC1") == (
        "a transportadora devolveu a encomenda LC1 ao cliente: contacte o cliente"
    )
