"""Refunds, exchange charges and instant-exchange holds through Stripe, each guarded by our own ledger
(the payment peer may ignore idempotency keys)."""

from __future__ import annotations

import asyncio
from functools import cached_property

import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql import func
from stripe.params import PaymentIntentCreateParams
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import ActivityBase
from db.models import ExchangePayment, RefundRow
from domain.exchanges import HoldSettlement, PaymentInput, PaymentResult
from domain.messages import RefundInput, RefundResult


class Payments(ActivityBase):
    @cached_property
    def _stripe(self) -> stripe.StripeClient:
        # One client for the worker's life: each new one built its HTTP clients (and their TLS contexts) again,
        # about 2% of the worker's CPU. Its requests session is per thread, so the to_thread calls may share it.
        base = self.settings.stripe_api_base
        return stripe.StripeClient(self.settings.stripe_api_key.get_secret_value(),
                                   base_addresses={"api": base} if base else None)  # fmt: skip

    @activity.defn(name="refund_payment")
    async def refund(self, inp: RefundInput) -> RefundResult:
        """Refund once per key. The ledger row is locked while Stripe is asked, so overlapping attempts
        (a timed-out attempt still running beside its retry) take turns; and a retry after a crash
        looks for a refund carrying our key before it would ever create another."""
        async with self.sessions.begin() as s:
            created = await s.scalar(
                insert(RefundRow)
                .values(key=inp.key, return_id=inp.return_id, payment_reference=inp.payment_reference,
                        amount=inp.amount, currency=inp.currency.upper(), status="pending")
                .on_conflict_do_nothing()
                .returning(RefundRow.key)
            )  # fmt: skip
            # Only an earlier attempt can have reached Stripe (its row is rolled back with it if it crashed after):
            # the first attempt at a new row skips the look-up, a round trip to Stripe per refund.
            earlier = created is None or activity.info().attempt > 1
            row = await s.scalar(select(RefundRow).where(RefundRow.key == inp.key).with_for_update())
            assert row is not None
            if row.status != "succeeded" or not row.provider_refund_id:
                row.provider_refund_id = await asyncio.to_thread(self._find_or_create, self._stripe, row, earlier)
                row.status = "succeeded"
                row.completed_at = func.now()
            return RefundResult(key=inp.key, amount=row.amount, provider_refund_id=row.provider_refund_id)

    @staticmethod
    def _find_or_create(client: stripe.StripeClient, row: RefundRow, look_back: bool) -> str:
        if look_back:
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

    @activity.defn(name="charge_payment")
    async def charge(self, inp: PaymentInput) -> PaymentResult:
        """Charge (or hold, kind "hold") once per key on the order's payment method. As with refunds the
        ledger row is written first and locked while Stripe is asked; a retry finds the intent by our key.
        A declined card is an answer, not an error: the row stays failed and the workflow falls back."""
        async with self.sessions.begin() as s:
            created = await s.scalar(
                insert(ExchangePayment)
                .values(key=inp.key, return_id=inp.return_id, kind=inp.kind, payment_reference=inp.payment_reference,
                        amount=inp.amount, currency=inp.currency.upper(), status="pending")
                .on_conflict_do_nothing()
                .returning(ExchangePayment.key)
            )  # fmt: skip
            # Only an earlier attempt can have reached Stripe: then its intent must be looked for first.
            earlier = created is None or activity.info().attempt > 1
            row = await s.scalar(select(ExchangePayment).where(ExchangePayment.key == inp.key).with_for_update())
            assert row is not None
            reason = ""
            if row.status == "pending":
                try:
                    intent = await asyncio.to_thread(self._find_or_create_intent, self._stripe, row, earlier)
                    row.provider_intent_id = intent.id
                    row.status = "held" if row.kind == "hold" else "succeeded"
                except stripe.CardError as e:
                    row.status, reason = "failed", e.user_message or str(e)
                row.completed_at = func.now()
            return PaymentResult(key=row.key, amount=row.amount, status=row.status,
                                 provider_intent_id=row.provider_intent_id, reason=reason)  # fmt: skip

    @activity.defn(name="settle_hold")
    async def settle_hold(self, inp: HoldSettlement) -> str:
        """Capture `capture` of a hold (the item did not come back as it left) or release it (0)."""
        async with self.sessions.begin() as s:
            row = await s.scalar(select(ExchangePayment).where(ExchangePayment.key == inp.key).with_for_update())
            if row is None or row.status != "held" or not row.provider_intent_id:
                return row.status if row else "missing"
            client = self._stripe
            if inp.capture > 0:
                amount = min(inp.capture, row.amount)
                await asyncio.to_thread(client.v1.payment_intents.capture, row.provider_intent_id,
                                        {"amount_to_capture": amount})  # fmt: skip
                row.status, row.captured_amount = "captured", amount
            else:
                await asyncio.to_thread(client.v1.payment_intents.cancel, row.provider_intent_id)
                row.status = "released"
            row.completed_at = func.now()
            return row.status

    @staticmethod
    def _find_or_create_intent(
        client: stripe.StripeClient, row: ExchangePayment, look_back: bool
    ) -> stripe.PaymentIntent:
        # Walking the account's intents is only paid on a retry. The whole list is walked because the order of
        # a page is not to be trusted (Stripe lists newest first, localstripe oldest first).
        if look_back:
            for earlier in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
                if earlier.metadata and earlier.metadata.to_dict().get("reverso_key") == row.key:
                    return earlier
        try:
            paid = client.v1.payment_intents.retrieve(row.payment_reference)
        except stripe.InvalidRequestError as e:
            raise ApplicationError(f"order payment not found: {e.user_message or e}", non_retryable=True) from e
        method = paid.payment_method
        params: PaymentIntentCreateParams = {"amount": row.amount, "currency": row.currency.lower()}
        if method:  # none: the key is left out, as Stripe's client leaves out a None (the order is kept)
            params["payment_method"] = method if isinstance(method, str) else method.id
        params["confirm"] = True
        params["off_session"] = True  # the shopper is not at the checkout: the saved method pays
        params["metadata"] = {"reverso_key": row.key, "return_id": row.return_id}
        if paid.customer:
            params["customer"] = paid.customer if isinstance(paid.customer, str) else paid.customer.id
        if row.kind == "hold":
            params["capture_method"] = "manual"
        return client.v1.payment_intents.create(params, {"idempotency_key": row.key})
