"""Refunds through Stripe, guarded by our own ledger (the payment peer may ignore idempotency keys)."""

from __future__ import annotations

import asyncio

import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql import func
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import ActivityBase
from db.models import RefundRow
from domain.messages import RefundInput, RefundResult


class Payments(ActivityBase):
    def _client(self) -> stripe.StripeClient:
        base = self.settings.stripe_api_base
        kwargs = {"base_addresses": {"api": base}} if base else {}
        return stripe.StripeClient(self.settings.stripe_api_key.get_secret_value(), **kwargs)

    @activity.defn(name="refund_payment")
    async def refund(self, inp: RefundInput) -> RefundResult:
        """Refund once per key. The ledger row is locked while Stripe is asked, so overlapping attempts
        (a timed-out attempt still running beside its retry) take turns; and a retry after a crash
        looks for a refund carrying our key before it would ever create another."""
        async with self.sessions.begin() as s:
            await s.execute(
                insert(RefundRow)
                .values(
                    key=inp.key,
                    return_id=inp.return_id,
                    payment_reference=inp.payment_reference,
                    amount=inp.amount,
                    currency=inp.currency.upper(),
                    status="pending",
                )
                .on_conflict_do_nothing()
            )
            row = await s.scalar(select(RefundRow).where(RefundRow.key == inp.key).with_for_update())
            assert row is not None
            if row.status != "succeeded" or not row.provider_refund_id:
                row.provider_refund_id = await asyncio.to_thread(self._find_or_create, self._client(), row)
                row.status = "succeeded"
                row.completed_at = func.now()
            return RefundResult(key=inp.key, amount=row.amount, provider_refund_id=row.provider_refund_id)

    @staticmethod
    def _find_or_create(client: stripe.StripeClient, row: RefundRow) -> str:
        for earlier in client.v1.refunds.list(
            {"payment_intent": row.payment_reference, "limit": 100}
        ).auto_paging_iter():
            if earlier.metadata and earlier.metadata.to_dict().get("reverso_key") == row.key:
                return earlier.id
        try:
            refund = client.v1.refunds.create(
                {
                    "payment_intent": row.payment_reference,
                    "amount": row.amount,
                    "metadata": {"reverso_key": row.key},
                },
                {"idempotency_key": row.key},
            )
        except stripe.InvalidRequestError as e:
            # The payment cannot take this refund (wrong reference, more than captured): retrying won't help.
            raise ApplicationError(f"refund refused by Stripe: {e.user_message or e}", non_retryable=True) from e
        return refund.id
