"""A value the database (or UTF-8) refuses fails the activity for good, as BadData: the workflows' retry policy retries
until the outside system is back, and no attempt ever gets past such a value. The projection flags the return's
row on its way out, so the read model shows it lags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.inventory import Inventory
from activities.notifications import Notifications
from activities.read_model import ReadModel
from domain.exchanges import QuoteInput, QuoteLine
from domain.messages import EmailInput
from domain.models import ReturnState, TimelineEntry

pytestmark = pytest.mark.asyncio(loop_scope="session")

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BAD_DATA = "BadData"  # activities.base.BAD_DATA, which the workflows catch


def state(rid: str, order, version: int, status: str, message: str) -> ReturnState:
    return ReturnState(id=rid, order_number=order.number, email=order.email, currency="EUR", status=status, lines=[],
                       timeline=[TimelineEntry(seq=1, at=AT, status=status, message=message)], version=version,
                       created_at=AT, updated_at=AT)  # fmt: skip


def assert_final(refusal: pytest.ExceptionInfo[ApplicationError]) -> None:
    assert refusal.value.type == BAD_DATA and refusal.value.non_retryable


@pytest.mark.parametrize("bad", ["note\x00", "note\ud800"], ids=["nul", "lone_surrogate"])
async def test_a_state_the_database_refuses_fails_for_good_and_flags_the_row(settings, shop, db, bad):
    rid = "R-BAD" + uuid.uuid4().hex[:8].upper()
    project, env, order = ReadModel(settings).project, ActivityEnvironment(), await shop.order()
    await env.run(project, state(rid, order, 1, "awaiting_shipment", "return requested"))
    with pytest.raises(ApplicationError) as refusal:
        await env.run(project, state(rid, order, 2, "received", bad))
    assert_final(refusal)
    async with db.sessions() as s:
        row = (await s.execute(text("select status, version, attention, state from returns where id = :id"),
                               {"id": rid})).one()  # fmt: skip
    # The last good state stays, under its version, but the row says where the return is and that it lags.
    assert (row.status, row.version, row.attention) == ("received", 1, True)
    assert row.state["attention_reason"].startswith("bad_data: the read model refused the return's state")
    assert row.state["timeline"][0]["message"] == "return requested"


async def test_an_email_that_cannot_be_encoded_fails_for_good(settings, mailbox):
    rid = "R-BADMAIL" + uuid.uuid4().hex[:6].upper()
    inp = EmailInput(return_id=rid, kind="rejected", to="a@example.com",
                     context={"reason": "worn \ud800", "order_number": "O-1", "currency": "EUR", "status": "rejected",
                              "reasons": [], "tracking_number": ""})  # fmt: skip
    with pytest.raises(ApplicationError) as refusal:
        await ActivityEnvironment().run(Notifications(settings).send, inp)
    assert_final(refusal)
    assert mailbox.kinds(rid) == []


async def test_an_exchange_sku_with_nul_fails_the_quote_for_good(settings):
    inp = QuoteInput(return_id="R-BADSKU", currency="EUR", lines=[QuoteLine(line_id="L1", sku="TEE\x00L", quantity=1)])
    with pytest.raises(ApplicationError) as refusal:
        await ActivityEnvironment().run(Inventory(settings).quote, inp)
    assert_final(refusal)
