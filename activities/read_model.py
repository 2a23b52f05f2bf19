"""Orders and the return read model: claiming quantities at submit, projecting state at transitions."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.sql.dml import ReturningInsert
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import BAD_DATA, ActivityBase, bad_data_is_final, refused_data
from db.models import OrderRow, ReturnClaim, ReturnRow, ShipmentRow, TimelineRow
from db.policy_store import current_policy, returner_history
from domain.messages import ClaimInput, ClaimResult
from domain.models import RELEASED_STATUSES, Order, ReturnState
from domain.policy import decide, others_value

# The returns columns every projection writes: ReturnState's fields of the same names, and the state itself.
PROJECTED = ("id", "order_number", "email", "status", "currency", "refund_total", "store_credit_total",
             "fees_total", "state", "version", "created_at", "updated_at", "attention", "policy_version")  # fmt: skip


RETURNS, TIMELINE, SHIPMENTS = (cast(Table, m.__table__) for m in (ReturnRow, TimelineRow, ShipmentRow))


def _upsert_return() -> ReturningInsert[tuple[int]]:
    stmt = insert(RETURNS)
    return stmt.on_conflict_do_update(
        index_elements=[ReturnRow.id],
        set_={k: stmt.excluded[k] for k in PROJECTED if k not in ("id", "created_at")},
        where=ReturnRow.version <= stmt.excluded.version,
    ).returning(RETURNS.c.version)  # no row: a newer version is already there


def _upsert_timeline() -> Insert:
    # An entry is rewritten only when it differs: a write made by a workflow task that was then lost to a crash
    # (projections are local activities) can hold an entry the replayed workflow wrote otherwise, under the same seq.
    stmt = insert(TIMELINE)
    columns = ("at", "status", "code", "params", "message")
    changed = [TIMELINE.c[k] != stmt.excluded[k] for k in columns]
    return stmt.on_conflict_do_update(
        index_elements=[TIMELINE.c.return_id, TIMELINE.c.seq],
        set_={k: stmt.excluded[k] for k in columns},
        where=or_(*changed),
    )


# Built once with their values bound at execution: a projection runs at every transition of every return,
# and building the statements each time cost more CPU than the database spent on them.
UPSERT_RETURN = _upsert_return()
UPSERT_TIMELINE = _upsert_timeline()
SET_SHIPMENT_STATUS = (
    update(SHIPMENTS).where(ShipmentRow.tracking_number == bindparam("tracking")).values(status=bindparam("status"))
)
HOLD_AGAIN = (
    update(cast(Table, ReturnClaim.__table__))
    .where(ReturnClaim.return_id == bindparam("rid"), ReturnClaim.released.is_(True))
    .values(released=False)
)
# When the database refuses a state: the row keeps its last good state, but says where the return is and that
# someone must look (values the workflow makes itself, which the database takes).
FLAG_RETURN = text(
    "update returns set status = cast(:status as text), attention = true, state = state || jsonb_build_object("
    "'status', cast(:status as text), 'attention', true, 'attention_code', 'bad_data', "
    "'attention_reason', cast(:reason as text), 'resolutions', '[]'::jsonb) where id = :rid"
)


class ReadModel(ActivityBase):
    @activity.defn(name="claim_return")
    @bad_data_is_final
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
        return ClaimResult(order=order, policy=policy, decision=decision, policy_version=stored.version,
                           others_value=others_value(order, returned))  # fmt: skip

    @activity.defn(name="project_return")
    async def project(self, state: ReturnState) -> None:
        """Write the workflow's state into the read model; an older version never overwrites a newer.

        A state the database refuses fails for good (BAD_DATA): it would be refused at every attempt. The row is
        flagged first, so the read model shows that it lags instead of silently keeping an older state."""
        try:
            await self._write(state)
        except Exception as e:
            refused = refused_data(e)
            if refused is None:
                raise
            reason = f"bad_data: the read model refused the return's state ({type(refused).__name__})"
            async with self.engine.begin() as s:
                await s.execute(FLAG_RETURN, dict(rid=state.id, status=state.status, reason=reason))
            raise ApplicationError(reason, type=BAD_DATA, non_retryable=True) from e

    async def _write(self, state: ReturnState) -> None:
        values = {k: getattr(state, k) for k in PROJECTED if k != "state"} | {"state": state.model_dump(mode="json")}
        async with self.engine.begin() as s:
            if (await s.execute(UPSERT_RETURN, values)).first() is None:
                return  # a late retry of an older state: what it would write is already superseded
            if state.timeline:  # one round trip for the whole timeline: one per entry was most of a write
                await s.execute(UPSERT_TIMELINE, [dict(return_id=state.id, seq=t.seq, at=t.at, status=t.status,
                                                       code=t.code, params=t.params, message=t.message)
                                                  for t in state.timeline])  # fmt: skip
            for sh in state.shipments:
                await s.execute(SET_SHIPMENT_STATUS, dict(tracking=sh.tracking_number, status=sh.status))
            if state.status in RELEASED_STATUSES:
                await s.execute(update(ReturnClaim).where(ReturnClaim.return_id == state.id).values(released=True))
            elif state.status == "received" and any(t.status == "expired" for t in state.timeline):
                # an expired return reopened (its parcel came late) holds its units again; only such a return may
                # have released them, and every other projection of a received return is spared the statement
                await s.execute(HOLD_AGAIN, dict(rid=state.id))

    @activity.defn(name="release_claims")
    async def release_claims(self, return_id: str) -> None:
        """The return ended without its parcel (closed by the shop while it was on its way): the order's units it
        held may be returned again. Setting the flag twice changes nothing, so a retry is harmless."""
        async with self.engine.begin() as s:
            await s.execute(update(ReturnClaim).where(ReturnClaim.return_id == return_id).values(released=True))
