"""The read-model projection on PostgreSQL: newer versions win, whole, and a late older write changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.read_model import ReadModel
from domain.models import ReturnState, TimelineEntry

pytestmark = pytest.mark.asyncio(loop_scope="session")

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def state(order, version: int, status: str, messages: list[str]) -> ReturnState:
    timeline = [TimelineEntry(seq=i + 1, at=AT, status=status, message=m) for i, m in enumerate(messages)]
    return ReturnState(id="R-PROJ1", order_number=order.number, email=order.email, currency="EUR", status=status,
                       lines=[], timeline=timeline, version=version, created_at=AT, updated_at=AT)  # fmt: skip


async def stored(db) -> tuple[str, list[str]]:
    async with db.sessions() as s:
        status = await s.scalar(text("select status from returns where id = 'R-PROJ1'"))
        rows = await s.execute(text("select message from return_timeline where return_id = 'R-PROJ1' order by seq"))
        return status, [m for (m,) in rows]


async def test_a_replayed_workflow_rewrites_its_timeline_and_a_late_older_write_changes_nothing(settings, shop, db):
    project = ReadModel(settings).project
    env = ActivityEnvironment()
    order = await shop.order()
    # Written from a workflow task a worker crash then lost (projections are local activities)...
    await env.run(project, state(order, 2, "awaiting_shipment", ["return requested", "label issued"]))
    # ...and again by the replayed workflow, whose second entry came out otherwise.
    await env.run(project, state(order, 3, "in_transit", ["return requested", "parcel scanned", "in transit"]))
    assert await stored(db) == ("in_transit", ["return requested", "parcel scanned", "in transit"])
    # An attempt of the first write that was still running arrives last: the newer state stays, timeline too.
    await env.run(project, state(order, 2, "awaiting_shipment", ["return requested", "label issued"]))
    assert await stored(db) == ("in_transit", ["return requested", "parcel scanned", "in transit"])
