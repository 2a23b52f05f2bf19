"""Real parts for the tests: PostgreSQL, localstripe, an SMTP sink, the time-skipping Temporal server."""

from __future__ import annotations

import base64
import email
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import stripe
from sqlalchemy import select, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from db.engine import get_sessionmaker
from db.migrate import upgrade
from db.models import InventoryItem, ShipmentRow, StoreCredit
from db.queries import upsert_inventory, upsert_order
from domain.models import Order
from settings import Settings
from tests.support import services


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.postgres_url(tmp_path_factory.mktemp("pg")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def stripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.localstripe(tmp_path_factory.mktemp("stripe")) as url:
        stripe.api_key, stripe.api_base = "sk_test_reverso", url
        yield url


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("mail")
    with services.smtp_sink(path) as port:
        os.environ["REVERSO_TEST_SMTP_PORT"] = str(port)
        yield path


@pytest.fixture(scope="session")
def settings(pg_url: str, stripe_url: str, mail_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=pg_url,
        stripe_api_base=stripe_url,
        stripe_api_key="sk_test_reverso",
        smtp_port=int(os.environ["REVERSO_TEST_SMTP_PORT"]),
        state_dir=tmp_path_factory.mktemp("state"),
        task_queue="reverso-test",
        carrier_webhook_secret="whsec_" + base64.b64encode(os.urandom(24)).decode(),
    )


# One time-skipping server per test module. Its clock only moves forward, and it moves far: awaiting a workflow's
# result lets it skip to that workflow's execution deadline (ten years by default) even after the workflow has
# completed. Shared by the whole session, it ran past 2100 (orders are dated by it, and refused past 2099).
@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=_beside_python("temporal-test-server")
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def worker(ts_env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[None]:
    from worker import build_worker

    async with build_worker(ts_env.client, settings):
        yield


def _beside_python(name: str) -> str | None:
    """The venv's own binary even when the venv is not activated; never a download."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


class Shop:
    """Makes inventory and paid orders, as the shop's backend would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Workflow tests set the time-skipping server's clock here: its "now" runs ahead of the wall.
        self.clock: Callable[[], Awaitable[datetime]] | None = None

    async def inventory(self, sku: str, available: int, unit_price: int = 2500) -> None:
        async with get_sessionmaker(self.settings.resolved_database_url()).begin() as s:
            await upsert_inventory(s, sku, sku.title(), unit_price, "EUR", available)

    async def order(self, quantity: int = 1, unit_price: int = 2500, final_sale: bool = False,
                    delivered_days_ago: int = 5, email_addr: str = "shopper@example.com") -> Order:  # fmt: skip
        pi = stripe.PaymentIntent.create(amount=quantity * unit_price, currency="eur",
                                         payment_method="pm_card_visa", confirm=True)  # fmt: skip
        now = await self.clock() if self.clock else datetime.now(UTC)
        order = Order.model_validate({
            "number": "T" + uuid.uuid4().hex[:8].upper(), "email": email_addr, "currency": "EUR",
            "placed_at": now - timedelta(days=delivered_days_ago + 2),
            "delivered_at": now - timedelta(days=delivered_days_ago),
            "payment": {"provider": "stripe", "reference": pi.id},
            "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "country": "PT"},
            "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": quantity, "unit_price": unit_price,
                       "final_sale": final_sale}],
        })  # fmt: skip
        async with get_sessionmaker(self.settings.resolved_database_url()).begin() as s:
            await upsert_order(s, order)
        return order


@pytest.fixture
def shop(settings: Settings) -> Shop:
    return Shop(settings)


class Mailbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self, return_id: str) -> list[Message]:
        found = [email.message_from_bytes(p.read_bytes()) for p in sorted(self.path.glob("*.eml"))]
        return [m for m in found if m["X-Reverso-Return"] == return_id]

    def kinds(self, return_id: str) -> list[str]:
        return [str(m["X-Reverso-Kind"]) for m in self.messages(return_id)]

    def message(self, return_id: str, kind: str) -> Message:
        return next(m for m in self.messages(return_id) if m["X-Reverso-Kind"] == kind)

    def body(self, return_id: str, kind: str) -> str:
        msg = self.message(return_id, kind)
        part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        return part.get_payload(decode=True).decode()


@pytest.fixture
def mailbox(mail_dir: Path) -> Mailbox:
    return Mailbox(mail_dir)


class Db:
    def __init__(self, settings: Settings) -> None:
        self.sessions = get_sessionmaker(settings.resolved_database_url())

    async def shipment_status(self, tracking: str) -> str | None:
        async with self.sessions() as s:
            return await s.scalar(select(ShipmentRow.status).where(ShipmentRow.tracking_number == tracking))

    async def credit_balance(self, code: str) -> int | None:
        async with self.sessions() as s:
            return await s.scalar(select(StoreCredit.balance).where(StoreCredit.code == code))

    async def available(self, sku: str) -> int | None:
        async with self.sessions() as s:
            return await s.scalar(select(InventoryItem.available).where(InventoryItem.sku == sku))

    async def return_row(self, rid: str) -> dict[str, Any]:
        async with self.sessions() as s:
            row = (await s.execute(text("select status, state from returns where id = :id"), {"id": rid})).one()
            return {"status": row.status, **row.state}


@pytest.fixture
def db(settings: Settings) -> Db:
    return Db(settings)
