"""The read-model projection on PostgreSQL: newer versions win, whole, and a late older write changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.read_model import ReadModel
from domain.models import ReturnState, TimelineEntry

pytestmark = pytest.mark.asyncio(loop_scope="session")

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


Entry = tuple[str, dict[str, Any]]  # a timeline entry's code and parameters
REQUESTED: Entry = ("return_requested", {})
LABEL: Entry = ("label_issued", {"tracking_numbers": ["LC1"]})
SCANNED: Entry = ("parcel_scanned", {})
MOVING: Entry = ("parcel_event", {"tracking": "LC1", "event": "out_for_delivery"})


def state(order, version: int, status: str, entries: list[Entry]) -> ReturnState:
    timeline = [TimelineEntry(seq=i + 1, at=AT, status=status, code=code, params=params)
                for i, (code, params) in enumerate(entries)]  # fmt: skip
    return ReturnState(id="R-PROJ1", order_number=order.number, email=order.email, currency="EUR", status=status,
                       lines=[], timeline=timeline, version=version, created_at=AT, updated_at=AT)  # fmt: skip


async def stored(db) -> tuple[str, list[Entry]]:
    """The return's status and its timeline as the read model keeps it: codes and parameters."""
    async with db.sessions() as s:
        status = await s.scalar(text("select status from returns where id = 'R-PROJ1'"))
        rows = await s.execute(
            text("select code, params from return_timeline where return_id = 'R-PROJ1' order by seq")
        )
        return status, [(code, params) for (code, params) in rows]


async def test_a_replayed_workflow_rewrites_its_timeline_and_a_late_older_write_changes_nothing(settings, shop, db):
    project = ReadModel(settings).project
    env = ActivityEnvironment()
    order = await shop.order()
    # Written from a workflow task a worker crash then lost (projections are local activities)...
    await env.run(project, state(order, 2, "awaiting_shipment", [REQUESTED, LABEL]))
    # ...and again by the replayed workflow, whose second entry came out otherwise.
    await env.run(project, state(order, 3, "in_transit", [REQUESTED, SCANNED, MOVING]))
    assert await stored(db) == ("in_transit", [REQUESTED, SCANNED, MOVING])
    # An attempt of the first write that was still running arrives last: the newer state stays, timeline too.
    await env.run(project, state(order, 2, "awaiting_shipment", [REQUESTED, LABEL]))
    assert await stored(db) == ("in_transit", [REQUESTED, SCANNED, MOVING])
