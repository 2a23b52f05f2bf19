"""`reverso carrier scan` sends the new scan kinds, signed, to a live API over HTTP, and the return shows them."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn
from click.testing import CliRunner

import cli
from api.main import create_app
from tests.api.api_helpers import inbound_tracking
from tests.support.services import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_carrier_scan_sends_out_for_delivery_and_refuses_unknown_kinds(
    ep_settings, ep_returns, ts_env, shop, tmp_path, monkeypatch
):
    app = create_app(ep_settings)
    app.state.temporal = ts_env.client
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())  # on this loop, beside the Temporal client it uses
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        ret, headers = await ep_returns.create(await shop.order())
        tracking = inbound_tracking(ret)
        assert ep_settings.carrier_webhook_secret is not None
        monkeypatch.setenv("REVERSO_PUBLIC_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("REVERSO_CARRIER_WEBHOOK_SECRET", ep_settings.carrier_webhook_secret.get_secret_value())
        run = CliRunner().invoke
        args = ["carrier", "scan", tracking, "--state-dir", str(tmp_path)]
        # In a thread: the command blocks on HTTP while this loop serves it.
        result = await asyncio.to_thread(run, cli.main, [*args, "--event", "out_for_delivery"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("202")
        for _ in range(200):
            got = await ep_returns.get(ret["id"], headers)
            if any(t["message"] == f"parcel {tracking}: out for delivery" for t in got["timeline"]):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the scan never reached the return")
        assert got["status"] == "awaiting_shipment"
        refused = await asyncio.to_thread(run, cli.main, [*args, "--event", "lost"])
        assert refused.exit_code == 2 and "returned_to_sender" in refused.output  # the choices are listed
    finally:
        server.should_exit = True
        await serving
