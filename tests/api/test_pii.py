"""No shopper's e-mail address or name in Temporal's search attributes or in the API's and worker's logs at INFO.

Search attributes are indexed in Temporal's visibility store (and shown in its UI to anyone who can see
the namespace); logs go wherever operators ship them. Both outlive the return. Drives one return over
HTTP on a real stack, staff searching it by e-mail included, and reads what the logs kept.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from temporalio.client import Client

from tests.api.test_degradation import awaiting_return, signed_scan
from tests.faults.driver import Journal, Peer
from tests.faults.test_nothing_lost import staff_tokens
from tests.support import services

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _orders_on_workflow_time() -> None:
    """Overrides tests/api/conftest.py's: this module runs its own stack, not the time-skipping server."""


@pytest.fixture(scope="module")
def running() -> Iterator[services.SupervisedStack]:
    with services.scratch_dir("reverso-pii-") as tmp, services.supervised_stack(tmp) as stack:
        yield stack


def spellings(text: str) -> set[str]:
    """How a value may show up in a log line: as is, lower-cased, or URL-encoded in a logged request line."""
    return {text, text.lower(), quote(text), quote(text, safe=""), quote_plus(text)}


def test_no_email_or_name_in_search_attributes_or_logs(running: services.SupervisedStack) -> None:
    staff = {role: {"Authorization": f"Bearer {t}"} for role, t in staff_tokens(running).items()}
    ret = awaiting_return(running, staff)  # name "Ana Sousa", e-mail <order number>@example.com
    rid, addr, name = ret["id"], f"{ret['number'].lower()}@example.com", "Ana Sousa"
    peer = Peer(running.api_url, Journal(), deadline=60)
    for event in ("in_transit", "delivered"):
        assert (
            peer.call("POST", "/api/v1/webhooks/carriers/local", **signed_scan(running, ret, event)).status_code == 202
        )
    peer.call("GET", f"/api/v1/returns/{rid}", headers=ret["shopper"], ok=lambda r: r.json()["status"] == "received")
    body = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True, "note": ""}]}
    assert (
        peer.call("POST", f"/api/v1/returns/{rid}/inspection", headers=staff["warehouse"], json=body).status_code == 200
    )
    done = peer.call(
        "GET", f"/api/v1/returns/{rid}", headers=ret["shopper"], ok=lambda r: r.json()["status"] == "completed"
    )
    assert done.json()["status"] == "completed"
    # Staff find a return by the shopper's e-mail; the request line must not carry it into the access log.
    found = peer.call("GET", "/api/v1/returns", headers=staff["admin"], params={"q": addr})
    assert [x["id"] for x in found.json()["items"]] == [rid], found.text
    # A failed sign-in is worth a log line, but not the address that was tried.
    peer.call("POST", "/api/v1/portal/session", json={"order_number": ret["number"], "email": "x" + addr})

    async def attributes() -> dict[str, Any]:
        client = await Client.connect(running.temporal_address)
        described = await client.get_workflow_handle(rid).describe()
        return {key.name: value for key, value in described.typed_search_attributes}  # type: ignore[attr-defined]

    indexed = asyncio.run(attributes())
    assert indexed.get("OrderNumber") == ret["number"], indexed  # the search attributes are there and read right
    leaked = [k for k, v in indexed.items() if any(s in str(v) for s in spellings(addr) | spellings(name))]
    assert not leaked, f"search attributes carry the shopper's e-mail or name: {indexed}"

    stack: Any = running.stack
    stack.kill_part("api", signal.SIGTERM)  # flush: the logs are complete once the process is gone
    stack.kill_part("worker", signal.SIGTERM)
    try:
        for part, proof in (("api", rid), ("worker", " INFO ")):  # the log holds INFO lines about this return
            text = (running.state_dir / "logs" / f"{part}.log").read_text(errors="replace")
            assert proof in text, f"{part}.log has no {proof!r}: nothing would be caught"
            hits = [ln for ln in text.splitlines() if any(s in ln for s in spellings(addr) | spellings(name))]
            assert not hits, f"{part}.log carries the shopper's e-mail or name:\n" + "\n".join(hits[:10])
    finally:
        stack.start_part("api")
        stack.start_part("worker")
