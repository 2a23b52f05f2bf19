"""The timeline a shopper reads names roles ("approved by the shop"), never a staff member, and carries no staff note:
the person is in TimelineEntry.by and finance's note in TimelineEntry.note, both for staff only. Before, staff token
names ("approved by ux-admin") and a denied refund's note reached the shopper's page."""

from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.models import Inspection, InspectionLine, RefundReview
from tests.support.timeline import messages
from tests.workflows.test_return_workflow import (  # noqa: F401  (the two autouse fixtures apply here too)
    _export_histories,
    _orders_on_workflow_time,
    scan,
    start,
    tracking_of,
    wait_status,
)
from workflows.return_workflow import ReturnWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="session")

LINE = {"line_id": "L1", "quantity": 1, "reason": "defective", "resolution": "refund"}
PRIVATE = ("ana-admin", "wanda-wh", "fiona-fin", "scratched on the back", "worn, not defective")


async def test_staff_names_and_notes_stay_out_of_the_messages_shoppers_read(
    ts_env: WorkflowEnvironment, worker, shop, settings, db, mailbox
):
    order = await shop.order(unit_price=30000)
    handle, answer = await start(ts_env, settings, order.number, [LINE])
    approved = await handle.execute_update(ReturnWorkflow.approve, "ana-admin")
    await scan(handle, tracking_of(approved), "delivered")
    await wait_status(handle, "received")
    inspection = Inspection(lines=[InspectionLine(line_id="L1", accepted_quantity=0, condition="damaged",
                                                  restock=False, note="scratched on the back")],
                            inspected_by="wanda-wh")  # fmt: skip
    await handle.execute_update(ReturnWorkflow.record_inspection, inspection)
    await wait_status(handle, "pending_refund_review")
    await handle.execute_update(
        ReturnWorkflow.review_refund, RefundReview(approve=False, note="worn, not defective", reviewed_by="fiona-fin")
    )
    assert await handle.result() == "completed"

    state = await handle.query(ReturnWorkflow.get_state)
    by_code = {t.code: t for t in state.timeline}
    assert (by_code["approved"].by, by_code["inspected"].by) == ("ana-admin", "wanda-wh")
    denied = by_code["refund_denied"]
    assert (denied.by, denied.note) == ("fiona-fin", "worn, not defective")
    staff_words, shopper_words, portuguese = messages(state), messages(state, staff=False), messages(state, False, "pt")
    assert "approved by the shop" in staff_words and "refund denied by the shop" in shopper_words
    for staff_said, shopper_said, pt_said in zip(staff_words, shopper_words, portuguese, strict=True):
        assert not any(x in staff_said + shopper_said + pt_said for x in PRIVATE), staff_said
        assert pt_said != shopper_said, f"no Portuguese for {shopper_said!r}"
    # The read model keeps who and why for staff; the e-mails the shopper gets carry neither.
    row = await db.return_row(handle.id)
    assert [(t["by"], t["note"]) for t in row["timeline"] if t["code"] == "refund_denied"] == [
        ("fiona-fin", "worn, not defective")
    ]
    for kind in mailbox.kinds(handle.id):
        assert not any(x in mailbox.body(handle.id, kind) for x in PRIVATE), kind


async def test_a_return_cancelled_by_staff_says_the_shop_and_by_the_shopper_says_so(ts_env, worker, shop, settings):
    by_staff, _ = await start(ts_env, settings, (await shop.order()).number, [LINE])
    await by_staff.execute_update(ReturnWorkflow.cancel, "carl-admin")
    by_shopper, _ = await start(ts_env, settings, (await shop.order()).number, [LINE])
    await by_shopper.execute_update(ReturnWorkflow.cancel, "shopper")
    staff_entry = (await by_staff.query(ReturnWorkflow.get_state)).timeline[-1]
    shopper_entry = (await by_shopper.query(ReturnWorkflow.get_state)).timeline[-1]
    assert (staff_entry.code, staff_entry.by) == ("cancelled_by_shop", "carl-admin")
    assert (shopper_entry.code, shopper_entry.by) == ("cancelled_by_shopper", "")
