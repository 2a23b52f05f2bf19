"""Stripe's errors are sorted once, in the payment activities, against the wrapped peer: a definitive answer is
never retried (a refused refund or hold settlement raises its non-retryable type, a charge Stripe will not make is
answered "failed"), an answer that may change later is raised retryable and the retry pays once."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payments import Payments
from db.engine import get_sessionmaker
from db.models import ExchangePayment, RefundRow
from domain.exchanges import HoldSettlement, PaymentInput
from domain.messages import RefundInput
from domain.payment_errors import HOLD_EXPIRED, PAYMENT_UNAVAILABLE, REFUND_REFUSED
from settings import Settings
from tests.support import services

pytestmark = pytest.mark.asyncio(loop_scope="session")

DAY = 24 * 3600


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A peer of this module's own: its clock is moved, which would expire the holds of other tests."""
    with services.localstripe(tmp_path_factory.mktemp("payment-errors")) as url:
        yield url


@pytest.fixture(scope="module")
def payments(settings: Settings, peer: str) -> Payments:
    return Payments(settings.model_copy(update={"stripe_api_base": peer}))


def client(peer: str) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_reverso", base_addresses={"api": peer}, max_network_retries=0)


def paid(peer: str, amount: int = 5000, **extra: Any) -> str:
    params = {"amount": amount, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True, **extra}
    return client(peer).v1.payment_intents.create(params).id  # type: ignore[arg-type]


def rid() -> str:
    return "R-E" + uuid.uuid4().hex[:8].upper()


def refund(reference: str, amount: int) -> RefundInput:
    r = rid()
    return RefundInput(key=f"{r}:refund:L1", return_id=r, payment_reference=reference, amount=amount, currency="EUR")


def payment(reference: str, kind: str = "charge", amount: int = 1500) -> PaymentInput:
    r = rid()
    return PaymentInput(key=f"{r}:exchange-{kind}:L1", return_id=r, kind=kind, payment_reference=reference,
                        amount=amount, currency="EUR")  # fmt: skip


def refunds_of(peer: str, reference: str) -> list[int]:
    return sorted(r.amount for r in client(peer).v1.refunds.list({"payment_intent": reference}).data)


def intents_of(peer: str, return_id: str) -> list[Any]:
    found = client(peer).v1.payment_intents.list({"limit": 100}).auto_paging_iter()
    return [pi for pi in found if pi.metadata and pi.metadata.to_dict().get("return_id") == return_id]


async def row_of(settings: Settings, model: Any, key: str) -> Any:
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        return await s.scalar(select(model).where(model.key == key))


def definitive(e: pytest.ExceptionInfo[ApplicationError], kind: str) -> dict[str, Any]:
    assert (e.value.type, e.value.non_retryable) == (kind, True)
    [details] = e.value.details
    assert isinstance(details, dict)
    return details


# --- refunds ------------------------------------------------------------------------------------------


async def test_a_refund_above_what_is_left_is_refused_for_good(settings, payments, peer):
    reference = paid(peer, 5000)
    client(peer).v1.refunds.create({"payment_intent": reference, "amount": 4000})  # from the provider's dashboard
    env, inp = ActivityEnvironment(), refund(reference, 5000)
    with pytest.raises(ApplicationError) as refused:
        await env.run(payments.refund, inp)
    assert definitive(refused, REFUND_REFUSED)["code"] == "amount_too_large"
    assert refunds_of(peer, reference) == [4000]
    assert await row_of(settings, RefundRow, inp.key) is None  # nothing paid: no ledger row claims otherwise

    client(peer).v1.refunds.create({"payment_intent": reference, "amount": 1000})
    with pytest.raises(ApplicationError) as nothing_left:
        await env.run(payments.refund, refund(reference, 500))
    assert definitive(nothing_left, REFUND_REFUSED)["code"] == "charge_already_refunded"


async def test_a_key_reused_for_another_amount_is_refused_for_good(payments, peer):
    reference, env = paid(peer, 5000), ActivityEnvironment()
    inp = refund(reference, 1000)
    client(peer).v1.refunds.create({"payment_intent": reference, "amount": 700}, {"idempotency_key": inp.key})
    with pytest.raises(ApplicationError) as refused:
        await env.run(payments.refund, inp)
    assert definitive(refused, REFUND_REFUSED)["code"] == "idempotency_error"
    assert refunds_of(peer, reference) == [700]


@pytest.mark.parametrize(("status", "code"), [(503, None), (429, "lock_timeout")])
async def test_stripe_not_answering_now_is_retried_and_the_retry_refunds_once(settings, payments, peer, status, code):
    reference, env = paid(peer, 5000), ActivityEnvironment()
    inp = refund(reference, 1200)
    httpx.post(f"{peer}/_peer/fail", json={"status": status, "code": code, "count": 1}).raise_for_status()
    with pytest.raises(ApplicationError) as busy:
        await env.run(payments.refund, inp)
    assert (busy.value.type, busy.value.non_retryable) == (PAYMENT_UNAVAILABLE, False)
    assert refunds_of(peer, reference) == []

    env.info = dataclasses.replace(env.info, attempt=2)  # Temporal's retry
    done = await env.run(payments.refund, inp)
    assert refunds_of(peer, reference) == [1200]
    assert (await row_of(settings, RefundRow, inp.key)).provider_refund_id == done.provider_refund_id


# --- charges ------------------------------------------------------------------------------------------


async def test_a_charge_under_the_currency_minimum_is_answered_failed_not_retried(settings, payments, peer):
    env, inp = ActivityEnvironment(), payment(paid(peer), amount=20)  # variants at 19.90 and 20.10
    result = await env.run(payments.charge, inp)
    assert result.status == "failed" and result.reason.startswith("amount_too_small:")
    assert (await row_of(settings, ExchangePayment, inp.key)).status == "failed"
    assert (await env.run(payments.charge, inp)).status == "failed"
    assert intents_of(peer, inp.return_id) == []


async def test_a_declined_card_is_answered_failed(payments, peer):
    card = client(peer).v1.payment_methods.create(
        {"type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}  # type: ignore[typeddict-item]
    )
    order = client(peer).v1.payment_intents.create({"amount": 2500, "currency": "eur", "payment_method": card.id})
    result = await ActivityEnvironment().run(payments.charge, payment(order.id))
    assert result.status == "failed" and result.reason.startswith("card_declined:")


async def test_an_order_payment_without_a_payment_method_is_answered_failed(payments, peer):
    order = client(peer).v1.payment_intents.create({"amount": 2500, "currency": "eur"})
    inp = payment(order.id)
    result = await ActivityEnvironment().run(payments.charge, inp)
    assert result.status == "failed" and result.reason.startswith("no_payment_method:")
    assert intents_of(peer, inp.return_id) == []


async def test_the_look_back_takes_only_a_paid_intent_as_ours(settings, payments, peer):
    """After a crash, a declined intent carrying our key paid nothing: the retry pays, it does not record it."""
    inp = payment(paid(peer))
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await s.execute(insert(ExchangePayment).values(key=inp.key, return_id=inp.return_id, kind="charge",
                                                       payment_reference=inp.payment_reference, amount=inp.amount,
                                                       currency="EUR", status="pending"))  # fmt: skip
    card = client(peer).v1.payment_methods.create(
        {"type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}  # type: ignore[typeddict-item]
    )
    with pytest.raises(stripe.CardError):
        client(peer).v1.payment_intents.create({"amount": inp.amount, "currency": "eur", "payment_method": card.id,
                                                "confirm": True, "metadata": {"reverso_key": inp.key,
                                                                              "return_id": inp.return_id}})  # fmt: skip
    [declined] = intents_of(peer, inp.return_id)
    result = await ActivityEnvironment().run(payments.charge, inp)
    assert result.status == "succeeded" and result.provider_intent_id != declined.id
    assert client(peer).v1.payment_intents.retrieve(result.provider_intent_id).status == "succeeded"  # type: ignore[arg-type]


async def test_stripe_not_answering_a_charge_now_is_retried_and_the_retry_pays_once(payments, peer):
    env, inp = ActivityEnvironment(), payment(paid(peer))
    httpx.post(f"{peer}/_peer/fail", json={"status": 500, "count": 1}).raise_for_status()
    with pytest.raises(ApplicationError) as busy:
        await env.run(payments.charge, inp)
    assert (busy.value.type, busy.value.non_retryable) == (PAYMENT_UNAVAILABLE, False)
    env.info = dataclasses.replace(env.info, attempt=2)
    assert (await env.run(payments.charge, inp)).status == "succeeded"
    assert [(pi.amount, pi.status) for pi in intents_of(peer, inp.return_id)] == [(1500, "succeeded")]


# --- holds --------------------------------------------------------------------------------------------


async def test_a_capture_already_made_at_stripe_is_success(settings, payments, peer):
    """Our capture reached Stripe, the ledger commit did not, and the key's answer is gone: Stripe says
    "already captured", which is the capture we wanted."""
    env, inp = ActivityEnvironment(), payment(paid(peer), "hold", 3000)
    held = await env.run(payments.charge, inp)
    assert held.status == "held"
    client(peer).v1.payment_intents.capture(held.provider_intent_id, {"amount_to_capture": 1000})  # type: ignore[arg-type]
    assert await env.run(payments.settle_hold, HoldSettlement(key=inp.key, capture=1000)) == "captured"
    row = await row_of(settings, ExchangePayment, inp.key)
    assert (row.status, row.captured_amount) == ("captured", 1000)


async def test_a_hold_past_the_authorization_window_is_expired_not_retried(settings, payments, peer):
    env = ActivityEnvironment()
    lapsing, released = payment(paid(peer), "hold", 3000), payment(paid(peer), "hold", 2000)
    for inp in (lapsing, released):
        assert (await env.run(payments.charge, inp)).status == "held"
    httpx.post(f"{peer}/_peer/clock", json={"advance_seconds": 8 * DAY}).raise_for_status()

    with pytest.raises(ApplicationError) as expired:
        await env.run(payments.settle_hold, HoldSettlement(key=lapsing.key, capture=3000))
    details = definitive(expired, HOLD_EXPIRED)
    assert (details["status"], details["cancellation_reason"]) == ("canceled", "automatic")
    assert (await row_of(settings, ExchangePayment, lapsing.key)).status == "expired"
    assert await env.run(payments.settle_hold, HoldSettlement(key=lapsing.key, capture=3000)) == "expired"

    assert await env.run(payments.settle_hold, HoldSettlement(key=released.key, capture=0)) == "released"
