"""Activities against real PostgreSQL, localstripe and SMTP: a retry never pays, credits or mails twice."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from temporalio.testing import ActivityEnvironment

from activities.carriers.local import LocalCarrier
from activities.notifications import Notifications
from activities.payments import Payments
from activities.read_model import ReadModel
from activities.store_credit import StoreCredits
from db.engine import get_sessionmaker
from db.models import RefundRow, StoreCredit, StoreCreditEntry
from domain.messages import ClaimInput, CreditInput, EmailInput, LabelRequest, RefundInput
from domain.models import ReturnLineRequest

pytestmark = pytest.mark.asyncio(loop_scope="session")


def refund_input(order, rid: str, amount: int = 1000) -> RefundInput:
    return RefundInput(key=f"{rid}:refund:L1", return_id=rid, payment_reference=order.payment.reference,
                       amount=amount, currency="EUR")  # fmt: skip


async def test_refund_run_twice_pays_once(settings, shop):
    order = await shop.order(quantity=2)
    env = ActivityEnvironment()
    first = await env.run(Payments(settings).refund, refund_input(order, "R-IDEM1"))
    second = await env.run(Payments(settings).refund, refund_input(order, "R-IDEM1"))
    assert first.provider_refund_id == second.provider_refund_id
    assert [r.amount for r in stripe.Refund.list(payment_intent=order.payment.reference).data] == [1000]


async def test_crash_after_stripe_paid_but_before_the_ledger_knew_is_not_paid_again(settings, shop):
    order = await shop.order()
    inp = refund_input(order, "R-CRASH1")
    # The state a crash leaves: our row is pending, yet Stripe already holds the refund with our key.
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await s.execute(insert(RefundRow).values(key=inp.key, return_id=inp.return_id, amount=inp.amount,
                                                 payment_reference=inp.payment_reference, currency="EUR",
                                                 status="pending"))  # fmt: skip
    paid = stripe.Refund.create(payment_intent=inp.payment_reference, amount=inp.amount,
                                metadata={"reverso_key": inp.key})  # fmt: skip
    result = await ActivityEnvironment().run(Payments(settings).refund, inp)
    assert result.provider_refund_id == paid.id
    assert len(stripe.Refund.list(payment_intent=inp.payment_reference).data) == 1


async def test_a_retry_after_a_crash_that_lost_the_ledger_row_is_not_paid_again(settings, shop):
    order = await shop.order()
    inp = refund_input(order, "R-CRASH2")
    # The crash rolled our row back with its transaction; Stripe kept the refund. Only the attempt number tells.
    paid = stripe.Refund.create(payment_intent=inp.payment_reference, amount=inp.amount,
                                metadata={"reverso_key": inp.key})  # fmt: skip
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=2)
    result = await env.run(Payments(settings).refund, inp)
    assert result.provider_refund_id == paid.id
    assert len(stripe.Refund.list(payment_intent=inp.payment_reference).data) == 1


async def test_concurrent_retries_of_the_same_refund_pay_once(settings, shop):
    order = await shop.order()
    env = ActivityEnvironment()
    inp = refund_input(order, "R-RACE1")
    results = await asyncio.gather(*(env.run(Payments(settings).refund, inp) for _ in range(3)))
    assert len({r.provider_refund_id for r in results}) == 1
    assert len(stripe.Refund.list(payment_intent=inp.payment_reference).data) == 1


async def test_store_credit_grant_twice_credits_once(settings):
    env = ActivityEnvironment()
    inp = CreditInput(key="R-CRED1:credit", return_id="R-CRED1", email="a@example.com", currency="EUR", amount=1234)
    a = await env.run(StoreCredits(settings).grant, inp)
    b = await env.run(StoreCredits(settings).grant, inp)
    assert a.code == b.code
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        entries = (await s.scalars(select(StoreCreditEntry).where(StoreCreditEntry.return_id == "R-CRED1"))).all()
    assert [e.amount for e in entries] == [1234]


async def test_more_credit_on_the_returns_code_twice_adds_once(settings):
    # A person pays what a refused refund owed as store credit: it goes on the code the return already has.
    env, run = ActivityEnvironment(), StoreCredits(settings).grant
    first = await env.run(run, CreditInput(key="R-CRED2:credit", return_id="R-CRED2", email="a@example.com",
                                           currency="EUR", amount=1500))  # fmt: skip
    more = CreditInput(key="R-CRED2:resolution:1:credit", return_id="R-CRED2", email="a@example.com", currency="EUR",
                       amount=5000, code=first.code)  # fmt: skip
    assert (await env.run(run, more)).code == first.code
    assert (await env.run(run, more)).code == first.code
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        balance = await s.scalar(select(StoreCredit.balance).where(StoreCredit.code == first.code))
    assert balance == 6500


async def test_label_twice_is_the_same_label(settings):
    env = ActivityEnvironment()
    req = LabelRequest(return_id="R-LBL1", direction="inbound", ship_from=["Ana", "Rua 1", "Porto", "PT"])
    a = await env.run(LocalCarrier(settings).create_label, req)
    b = await env.run(LocalCarrier(settings).create_label, req)
    assert a.tracking_number == b.tracking_number and a.tracking_number.startswith("LC")


async def test_email_twice_is_sent_once(settings, mailbox):
    env = ActivityEnvironment()
    inp = EmailInput(return_id="R-MAIL1", kind="received", to="a@example.com", context={})
    await env.run(Notifications(settings).send, inp)
    await env.run(Notifications(settings).send, inp)
    assert mailbox.kinds("R-MAIL1") == ["received"]
    assert "arrived at our warehouse" in mailbox.body("R-MAIL1", "received")


async def test_overlapping_email_attempts_send_once(settings, mailbox):
    """A timed-out attempt still running beside its retries: they take turns on the claimed row."""
    inp = EmailInput(return_id="R-MAIL2", kind="completed", to="b@example.com",
                     context={"refund_total": 1500, "fees_total": 0, "store_credit_total": 0, "store_credit_code": "",
                              "store_credit_expires": "", "exchange_tracking": "", "note": "", "currency": "EUR",
                              "order_number": "O-1", "status": "completed", "reasons": [], "tracking_number": ""})  # fmt: skip
    await asyncio.gather(*(ActivityEnvironment().run(Notifications(settings).send, inp) for _ in range(4)))
    assert mailbox.kinds("R-MAIL2") == ["completed"]
    assert mailbox.message("R-MAIL2", "completed")["Date"]  # RFC 5322 requires one


async def test_two_returns_for_the_last_unit_exactly_one_wins(settings, shop):
    order = await shop.order(quantity=1)
    env = ActivityEnvironment()
    line = [ReturnLineRequest(line_id="L1", quantity=1, reason="too_small", resolution="refund")]
    claims = [ClaimInput(return_id=f"R-LAST{i}", order_number=order.number, lines=line, now=datetime.now(UTC))
              for i in range(2)]  # fmt: skip
    results = await asyncio.gather(*(env.run(ReadModel(settings).claim, c) for c in claims))
    winners = [r for r in results if not r.decision.ineligible]
    assert len(winners) == 1
    loser = next(r for r in results if r.decision.ineligible)
    assert loser.decision.ineligible[0].refusal == "already returned"
