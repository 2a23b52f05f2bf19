"""The Temporal worker: registers the workflows and every activity on the `reverso` task queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.carriers.local import LocalCarrier
from activities.inventory import Inventory
from activities.notifications import Notifications
from activities.payments import Payments
from activities.read_model import ReadModel
from activities.store_credit import StoreCredits
from api import log_privacy
from settings import Settings, get_settings
from workflows.exchange import ExchangeWorkflow
from workflows.return_workflow import ReturnWorkflow

WORKFLOWS = [ReturnWorkflow, ExchangeWorkflow]

# Measured with bench/ (see bench/README.md); the SDK's defaults otherwise.
TUNING: dict[str, Any] = {
    # A cached return holds about 370 KB (its sandbox, module copy and state). Open returns wait days between
    # events, so the cache need only hold the returns in flight at once; the SDK's 1,000 kept ~370 MB resident
    # for returns that would each have replayed in a few ms at their next scan.
    "max_cached_workflows": 250,
}
# Threads for the blocking calls activities hand to asyncio.to_thread (the Stripe SDK, SMTP), which mostly wait
# on the network. Python's default pool is cores + 4: 6 here, so 20 returns in flight queued for them (the
# lifecycle bench: 0.76 of the bare workflow with 6, 0.79 with 32), and Stripe's ~300 ms per call would cap
# refunds at ~20/s.
BLOCKING_IO_THREADS = 32


def activities(settings: Settings) -> list[Callable[..., Any]]:
    found: list[Callable[..., Any]] = []
    for cls in (ReadModel, LocalCarrier, Payments, StoreCredits, Inventory, Notifications):
        instance = cls(settings)
        found += [
            getattr(instance, name)
            for name in dir(cls)
            if hasattr(getattr(cls, name), "__temporal_activity_definition")
        ]
    return found


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def build_worker(
    client: Client,
    settings: Settings,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Callable[..., Any]] = (),
    **tuning: Any,
) -> Worker:
    """The worker; bench/ adds its bare baseline workflow and overrides `tuning` to compare settings."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        activities=[*activities(settings), *extra_activities],
        **{**TUNING, **tuning},
    )


async def run(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # temporalio logs a failed activity's exception at every retry: no shopper's address or token in it.
    log_privacy.install()
    use_blocking_io_threads()
    client = await connect(settings)
    logging.getLogger("reverso.worker").info("worker polling task queue %s", settings.task_queue)
    await build_worker(client, settings).run()


def use_blocking_io_threads() -> None:
    pool = ThreadPoolExecutor(max_workers=BLOCKING_IO_THREADS, thread_name_prefix="activity-io")
    asyncio.get_running_loop().set_default_executor(pool)


if __name__ == "__main__":
    asyncio.run(run())
