"""Refunds, exchange charges and instant-exchange holds through Stripe, each guarded by our own ledger.

Stripe's errors are sorted here, once, where Stripe is called: what may answer otherwise later (network, 5xx, 429,
`lock_timeout`) is raised as retryable (PAYMENT_UNAVAILABLE); a definitive answer is never retried: a charge or hold
Stripe will not make is answered "failed", a refused refund or hold settlement raises a non-retryable
ApplicationError of a type from domain.payment_errors, carrying Stripe's code."""

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
from domain.keys import hold_settlement_key
from domain.messages import RefundInput, RefundResult
from domain.payment_errors import HOLD_EXPIRED, HOLD_REFUSED, PAYMENT_UNAVAILABLE, REFUND_REFUSED, TRANSIENT_CODES

# The status of an intent that means our money is there: paid for a charge, authorized for a hold.
PAID = {"charge": "succeeded", "hold": "requires_capture"}


class NotPaid(Exception):
    """A charge Stripe will not make; the message is the reason the shopper's timeline shows."""


def definitive(e: stripe.StripeError) -> bool:
    """Stripe's answer would be the same if asked again: a declined card, an idempotency key reused with other
    parameters, any other 400/402/404. Not: no answer (network), 5xx, 409, 429, `lock_timeout`, and a key or a
    permission refused (401, 403), which the operator fixes while the activity waits."""
    if isinstance(e, stripe.CardError | stripe.IdempotencyError):
        return True
    return isinstance(e, stripe.InvalidRequestError) and (e.code or "") not in TRANSIENT_CODES


def stripe_code(e: stripe.StripeError) -> str:
    if isinstance(e, stripe.IdempotencyError):
        return "idempotency_error"
    return e.code or type(e).__name__


def stripe_message(e: stripe.StripeError) -> str:
    return e.user_message or str(e)


def details_of(e: stripe.StripeError, **more: object) -> dict[str, object]:
    info: dict[str, object] = {"code": stripe_code(e), "message": stripe_message(e), "http_status": e.http_status}
    if e.error is not None and e.error.decline_code:
        info["decline_code"] = e.error.decline_code
    return {**info, **more}


def unavailable(e: stripe.StripeError, what: str, **more: object) -> ApplicationError:
    """Retryable: Temporal asks again, with the retry policy's backoff."""
    return ApplicationError(f"Stripe did not answer ({what}): {stripe_message(e)}", details_of(e, **more),
                            type=PAYMENT_UNAVAILABLE)  # fmt: skip


def classified(e: stripe.StripeError, refused: str, what: str, **more: object) -> ApplicationError:
    """The error an activity raises for a Stripe error: `refused`, never retried, when Stripe's answer is definitive."""
    if not definitive(e):
        return unavailable(e, what, **more)
    return ApplicationError(f"{what}: {stripe_message(e)}", details_of(e, **more), type=refused, non_retryable=True)


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
                try:
                    row.provider_refund_id = await asyncio.to_thread(self._find_or_create, self._stripe, row, earlier)
                except stripe.StripeError as e:
                    # Nothing was refunded: the row goes with the transaction, a later run may ask again.
                    raise classified(e, REFUND_REFUSED, f"refund {row.key} refused by Stripe", key=row.key,
                                     payment_reference=row.payment_reference, amount=row.amount) from e  # fmt: skip
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
        refund = client.v1.refunds.create(
            {
                "payment_intent": row.payment_reference,
                "amount": row.amount,
                "metadata": {"reverso_key": row.key},
            },
            {"idempotency_key": row.key},
        )
        return refund.id

    @activity.defn(name="charge_payment")
    async def charge(self, inp: PaymentInput) -> PaymentResult:
        """Charge (or hold, kind "hold") once per key on the order's payment method. As with refunds the
        ledger row is written first and locked while Stripe is asked; a retry finds the intent by our key.
        A charge Stripe will not make (declined, under the currency's minimum, no payment method that can be
        used again) is an answer, not an error: the row stays failed and the workflow falls back."""
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
                    if intent.status != PAID[row.kind]:
                        raise NotPaid(f"{intent.status}: the payment was not completed")
                    row.provider_intent_id = intent.id
                    row.status = "held" if row.kind == "hold" else "succeeded"
                except NotPaid as e:
                    row.status, reason = "failed", str(e)
                except stripe.StripeError as e:
                    if not definitive(e):
                        raise unavailable(e, f"{row.kind} {row.key}", key=row.key) from e
                    row.status, reason = "failed", f"{stripe_code(e)}: {stripe_message(e)}"
                row.completed_at = func.now()
            return PaymentResult(key=row.key, amount=row.amount, status=row.status,
                                 provider_intent_id=row.provider_intent_id, reason=reason)  # fmt: skip

    @activity.defn(name="settle_hold")
    async def settle_hold(self, inp: HoldSettlement) -> str:
        """Capture `capture` of a hold (the item did not come back as it left) or release it (0). Stripe saying
        the intent is already captured (our own capture, whose ledger commit failed) is success; a hold Stripe
        cancelled before the capture (its authorization lapsed) is recorded "expired" and raised as HOLD_EXPIRED."""
        refused: ApplicationError | None = None
        async with self.sessions.begin() as s:
            row = await s.scalar(select(ExchangePayment).where(ExchangePayment.key == inp.key).with_for_update())
            if row is None or row.status != "held" or not row.provider_intent_id:
                return row.status if row else "missing"
            client, intent_id = self._stripe, row.provider_intent_id
            amount = min(inp.capture, row.amount)
            try:
                if amount > 0:
                    intent = await asyncio.to_thread(client.v1.payment_intents.capture, intent_id,
                                                     {"amount_to_capture": amount},
                                                     {"idempotency_key": hold_settlement_key(row.key, True)})  # fmt: skip
                else:
                    intent = await asyncio.to_thread(client.v1.payment_intents.cancel, intent_id, {},
                                                     {"idempotency_key": hold_settlement_key(row.key, False)})  # fmt: skip
            except stripe.StripeError as e:
                what = f"hold {row.key} not {'captured' if amount > 0 else 'released'}"
                if not definitive(e) or e.code != "payment_intent_unexpected_state":
                    raise classified(e, HOLD_REFUSED, what, key=row.key, intent=intent_id) from e
                try:  # settled already, by us or by Stripe: the intent says how
                    intent = await asyncio.to_thread(client.v1.payment_intents.retrieve, intent_id)
                except stripe.StripeError as again:
                    raise classified(again, HOLD_REFUSED, what, key=row.key, intent=intent_id) from again
            if intent.status == "succeeded":
                row.status, row.captured_amount = "captured", intent.amount_received or amount
            elif intent.status == "canceled" and amount > 0:
                row.status = "expired"
                refused = ApplicationError(
                    f"hold {row.key} not captured: Stripe cancelled it ({intent.cancellation_reason or 'cancelled'})",
                    {"code": "payment_intent_unexpected_state", "status": intent.status, "key": row.key,
                     "intent": intent_id, "cancellation_reason": intent.cancellation_reason, "amount": amount},
                    type=HOLD_EXPIRED, non_retryable=True,
                )  # fmt: skip
            elif intent.status == "canceled":
                row.status = "released"
            else:
                raise ApplicationError(f"hold {row.key}: Stripe left the intent {intent.status}",
                                       {"code": "payment_intent_unexpected_state", "status": intent.status,
                                        "key": row.key, "intent": intent_id},
                                       type=HOLD_REFUSED, non_retryable=True)  # fmt: skip
            row.completed_at = func.now()
            status = row.status
        if refused is not None:  # raised once the row says so: a retry must not try to capture it again
            raise refused
        return status

    @staticmethod
    def _find_or_create_intent(
        client: stripe.StripeClient, row: ExchangePayment, look_back: bool
    ) -> stripe.PaymentIntent:
        # Walking the account's intents is only paid on a retry. The whole list is walked because the order of
        # a page is not to be trusted (Stripe lists newest first, localstripe oldest first). Only an intent that
        # paid (or holds) is ours to keep: a declined one carrying our key paid nothing.
        if look_back:
            for earlier in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter():
                if (earlier.metadata and earlier.metadata.to_dict().get("reverso_key") == row.key
                        and earlier.status == PAID[row.kind]):  # fmt: skip
                    return earlier
        paid = client.v1.payment_intents.retrieve(row.payment_reference)
        method = paid.payment_method
        if not method:
            raise NotPaid("no_payment_method: the order's payment has no payment method to charge again")
        params: PaymentIntentCreateParams = {"amount": row.amount, "currency": row.currency.lower()}
        params["payment_method"] = method if isinstance(method, str) else method.id
        params["confirm"] = True
        params["off_session"] = True  # the shopper is not at the checkout: the saved method pays
        params["metadata"] = {"reverso_key": row.key, "return_id": row.return_id}
        if paid.customer:
            params["customer"] = paid.customer if isinstance(paid.customer, str) else paid.customer.id
        if row.kind == "hold":
            params["capture_method"] = "manual"
        intent = client.v1.payment_intents.create(params, {"idempotency_key": row.key})
        # On a retry the answer may be the first attempt's, replayed for our key: what the intent is now counts.
        return client.v1.payment_intents.retrieve(intent.id) if look_back else intent
