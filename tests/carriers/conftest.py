"""A second API + worker whose settings send US returns to a warehouse that buys its labels from EasyPost."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import delete
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from db.engine import get_sessionmaker
from db.models import ShipmentRow
from settings import EasyPostSettings, Settings
from tests.api.api_helpers import Returns, Tokens
from tests.api.conftest import search_attributes  # noqa: F401  (a fixture, used by name)
from tests.conftest import Shop

EP_SECRET = "whsec_reverso_easypost_test"
EP_PATH = "/api/v1/webhooks/easypost"
TRACKING = "9400100208303109505657"  # the label the recording test_shipment_buy.yaml bought
US_WAREHOUSE = {"name": "Reverso Returns US", "line1": "388 Townsend St", "line2": "Apt 20", "city": "San Francisco",
                "region": "CA", "postal_code": "94107", "country": "US"}  # fmt: skip


@pytest.fixture(scope="session")
def ep_settings(settings: Settings) -> Settings:
    return Settings.model_validate(
        settings.model_dump()
        | {
            "task_queue": "reverso-easypost-test",
            "warehouses": [
                {"id": "porto", "address_lines": ["Reverso Porto Returns", "Rua do Cais 7", "4050-001 Porto", "PT"]},
                {"id": "sf", "carrier": "easypost", "address": US_WAREHOUSE},
            ],
            "routing": [{"warehouse": "sf", "countries": ["US"]}],
            "default_warehouse": "porto",
            # The recordings were made with another key (redacted); replay ignores it.
            "easypost": EasyPostSettings(api_key=SecretStr("EZTK_not_a_real_key"), webhook_secret=SecretStr(EP_SECRET)),
        }
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ep_worker(ts_env: WorkflowEnvironment, ep_settings: Settings) -> AsyncIterator[None]:
    from worker import build_worker

    async with build_worker(ts_env.client, ep_settings):
        yield


@pytest_asyncio.fixture
async def ep_client(
    ep_settings: Settings,
    ts_env: WorkflowEnvironment,
    ep_worker,
    search_attributes,  # noqa: F811
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ep_settings)
    app.state.temporal = ts_env.client
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
def ep_returns(ep_client: httpx.AsyncClient, ep_settings: Settings) -> Returns:
    return Returns(ep_client, Tokens(ep_settings, ep_client), ep_settings)


def ep_sign(body: bytes, secret: str = EP_SECRET) -> dict[str, str]:
    """As EasyPost signs a webhook: HMAC-SHA256 of the raw body, hex, in X-Hmac-Signature."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}", "content-type": "application/json"}


@pytest.fixture
def shop(settings: Settings, ts_env: WorkflowEnvironment) -> Shop:
    """Orders on the time-skipping server's clock: the workflows decide on it, and after the workflow tests (same
    session) it runs weeks ahead of the wall, so an order placed by the wall would be out of its return window."""
    shop = Shop(settings)
    shop.clock = ts_env.get_current_time
    return shop


@pytest.fixture
async def recorded_label_is_free(ep_settings: Settings) -> None:
    """Every purchase replays the same recording, so the same tracking number: free it from an earlier test."""
    async with get_sessionmaker(ep_settings.resolved_database_url()).begin() as s:
        await s.execute(delete(ShipmentRow).where(ShipmentRow.tracking_number == TRACKING))


HISTORIES = Path(__file__).resolve().parents[1] / "histories"


async def export_history(ts_env: WorkflowEnvironment, request: pytest.FixtureRequest, *return_ids: str) -> None:
    """With REVERSO_EXPORT_HISTORIES=1, keep these returns' histories for tests/workflows/test_replay.py."""
    if not os.environ.get("REVERSO_EXPORT_HISTORIES"):
        return
    name = request.node.name.removeprefix("test_")
    for i, rid in enumerate(return_ids):
        history = await ts_env.client.get_workflow_handle(rid).fetch_history()
        (HISTORIES / f"{name}-{i}__{rid}.json").write_text(history.to_json())
