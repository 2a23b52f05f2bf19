"""The API in-process over httpx, on the time-skipping Temporal server and the real parts of tests/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from tests.api.api_helpers import Returns, Tokens


@pytest.fixture(autouse=True)
def _orders_on_workflow_time(shop, ts_env: WorkflowEnvironment) -> None:
    # The time-skipping server's clock runs ahead of the wall once a test has skipped time.
    shop.clock = ts_env.get_current_time


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def search_attributes(ts_env: WorkflowEnvironment) -> None:
    """Register ReturnStatus and OrderNumber, which the API sets when it starts a return workflow.

    The time-skipping server starts without them and then refuses the start ("search attribute
    OrderNumber is not defined"); `reverso dev` registers them with --search-attribute.
    """
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    request = AddSearchAttributesRequest(
        namespace=ts_env.client.namespace, search_attributes={"ReturnStatus": keyword, "OrderNumber": keyword}
    )
    try:
        await ts_env.client.operator_service.add_search_attributes(request)
    except RPCError as e:
        if e.status != RPCStatusCode.ALREADY_EXISTS:
            raise


@pytest_asyncio.fixture
async def client(
    settings: Settings, ts_env: WorkflowEnvironment, worker, search_attributes
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    app.state.temporal = ts_env.client
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
def tokens(settings: Settings, client: httpx.AsyncClient) -> Tokens:
    return Tokens(settings, client)


@pytest.fixture
def returns(client: httpx.AsyncClient, tokens: Tokens, settings: Settings) -> Returns:
    return Returns(client, tokens, settings)
