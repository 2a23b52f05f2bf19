"""Orders and the return read model: claiming quantities at submit, projecting state at transitions."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import ActivityBase
from db.models import OrderRow, ReturnClaim, ReturnRow, ShipmentRow, TimelineRow
from db.policy_store import current_policy, returner_history
from domain.messages import ClaimInput, ClaimResult
from domain.models import RELEASED_STATUSES, Order, ReturnState
from domain.policy import decide


class ReadModel(ActivityBase):
    @activity.defn(name="claim_return")
    async def claim(self, inp: ClaimInput) -> ClaimResult:
        """Decide under a lock on the order row, and hold the quantities when every line is eligible.

        Two returns for the last unit serialize on the lock: exactly one gets it.
        """
        async with self.sessions.begin() as s:
            row = await s.scalar(select(OrderRow).where(OrderRow.number == inp.order_number).with_for_update())
            if row is None:
                raise ApplicationError(f"order {inp.order_number} not found", type="NotFound", non_retryable=True)
            order = Order.model_validate(row.data)
            mine = await s.scalars(select(ReturnClaim).where(ReturnClaim.return_id == inp.return_id))
            held = {c.line_id: c.quantity for c in mine}
            others = await s.execute(
                select(ReturnClaim.line_id, func.sum(ReturnClaim.quantity))
                .where(ReturnClaim.order_number == inp.order_number, ReturnClaim.return_id != inp.return_id)
                .where(ReturnClaim.released.is_(False))
                .group_by(ReturnClaim.line_id)
            )
            returned = {line_id: int(total) for line_id, total in others}
            stored = await current_policy(s, self.settings.policy)
            policy = stored.policy
            history = await returner_history(s, order.email, inp.return_id, inp.now, policy.serial_window_days)
            decision = decide(order, inp.lines, returned, inp.now, policy, history)
            if not decision.ineligible and not held:
                for line in inp.lines:
                    s.add(ReturnClaim(return_id=inp.return_id, line_id=line.line_id,
                                      order_number=order.number, quantity=line.quantity))  # fmt: skip
        return ClaimResult(order=order, policy=policy, decision=decision, policy_version=stored.version)

    @activity.defn(name="project_return")
    async def project(self, state: ReturnState) -> None:
        """Write the workflow's state into the read model; an older version never overwrites a newer."""
        values = dict(id=state.id, order_number=state.order_number, email=state.email, status=state.status,
                      currency=state.currency, refund_total=state.refund_total,
                      store_credit_total=state.store_credit_total, fees_total=state.fees_total,
                      state=state.model_dump(mode="json"), version=state.version,
                      created_at=state.created_at, updated_at=state.updated_at,
                      attention=state.attention, policy_version=state.policy_version)  # fmt: skip
        async with self.sessions.begin() as s:
            stmt = insert(ReturnRow).values(**values)
            await s.execute(
                stmt.on_conflict_do_update(
                    index_elements=[ReturnRow.id],
                    set_={k: stmt.excluded[k] for k in values if k not in ("id", "created_at")},
                    where=ReturnRow.version <= stmt.excluded.version,
                )
            )
            if state.timeline:  # one statement for the whole timeline: a round trip per entry was most of a write
                await s.execute(
                    insert(TimelineRow)
                    .values([dict(return_id=state.id, seq=t.seq, at=t.at, status=t.status, message=t.message)
                             for t in state.timeline])
                    .on_conflict_do_nothing()
                )  # fmt: skip
            for sh in state.shipments:
                await s.execute(
                    update(ShipmentRow)
                    .where(ShipmentRow.tracking_number == sh.tracking_number)
                    .values(status=sh.status)
                )
            if state.status in RELEASED_STATUSES:
                await s.execute(update(ReturnClaim).where(ReturnClaim.return_id == state.id).values(released=True))
