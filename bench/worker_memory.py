"""One worker process's memory (RSS) holding many open returns, against the same worker holding fewer.

For each size, a fresh worker opens that many returns through the real `submit` (update-with-start), so
each waits on its timers (shipment reminder and expiry, or approval reminder) and on signals; then every
return is asked for its state (a query), so each has been in the worker's workflow cache after it was opened.
RSS is read once the worker is idle again. (Until 2026-12-01 the touch was a scan for nobody's parcel; such a
scan now waits a while for a label that might still be coming, a timer per return that would muddy the figure.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time

import psutil
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from bench.common import paid_orders
from bench.stack import TASK_QUEUE, Stack
from domain.messages import ReturnInput, SubmitRequest
from domain.models import Order, ReturnLineRequest
from workflows.return_workflow import ORDER_KEY, STATUS_KEY, ReturnWorkflow

ABOVE_AUTO_APPROVE = 30_000  # minor units: above the default 25000 limit, the return waits for an admin


async def open_return(client: Client, order: Order) -> str:
    rid = "R-M" + order.number
    lines = [ReturnLineRequest(line_id="L1", quantity=1, reason="too_small", resolution="refund")]
    for attempt in range(5):
        start = WithStartWorkflowOperation(
            ReturnWorkflow.run, ReturnInput(return_id=rid, order_number=order.number), id=rid, task_queue=TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes([SearchAttributePair(ORDER_KEY, order.number),
                                                     SearchAttributePair(STATUS_KEY, "pending_approval")]),
        )  # fmt: skip
        try:
            # The same update id on a retry: the server answers with the first submit's outcome.
            await client.execute_update_with_start_workflow(
                ReturnWorkflow.submit, SubmitRequest(lines=lines), start_workflow_operation=start, id=f"{rid}-submit"
            )
            return rid
        except RPCError as e:  # a backlog longer than the server's deadline (a busy machine): ask again
            if e.status != RPCStatusCode.DEADLINE_EXCEEDED or attempt == 4:
                raise
    return rid


async def idle(proc: psutil.Process, quiet: float = 3.0) -> None:
    """Until the process used under 2% of a core for `quiet` seconds (mails and the like have gone out)."""
    last, since = proc.cpu_times(), time.monotonic()
    while time.monotonic() - since < quiet:
        await asyncio.sleep(1)
        now = proc.cpu_times()
        if (now.user + now.system) - (last.user + last.system) > 0.02:
            since = time.monotonic()
        last = now


async def hold(st: Stack, n: int, args: argparse.Namespace) -> tuple[int, int, float]:
    """(RSS bytes after start, RSS bytes holding n open returns, seconds it took to open them)."""
    proc = st.start_worker(json.loads(args.tuning) if args.tuning else None, log=f"worker-{n}.log")
    client = await st.client()
    price = ABOVE_AUTO_APPROVE if args.open_path == "approval" else 2500
    orders = await paid_orders(st.settings, n, prefix=f"M{n}X", unit_price=price, pay=False)
    await idle(proc, 1.0)
    empty = proc.memory_info().rss
    gate = asyncio.Semaphore(args.concurrency)

    async def one(order: Order) -> str:
        async with gate:
            return await open_return(client, order)

    started = time.perf_counter()
    rids = await asyncio.gather(*(one(o) for o in orders))
    took = time.perf_counter() - started

    async def touch(rid: str) -> None:
        async with gate:
            await client.get_workflow_handle(rid).query(ReturnWorkflow.get_state)

    await asyncio.gather(*(touch(r) for r in rids))
    await idle(proc)
    rss = proc.memory_info().rss
    if os.environ.get("BENCH_TRACEMALLOC"):
        proc.send_signal(signal.SIGUSR1)
        await asyncio.sleep(5)
    return empty, rss, took


async def memory_bench(st: Stack, args: argparse.Namespace) -> None:
    sizes = [args.open_baseline, args.open]
    results = {n: await hold(st, n, args) for n in sizes}
    st.stop_worker()
    mib = 2**20
    for n, (empty, rss, took) in results.items():
        print(f"worker holding {n:>6} open returns: RSS {rss / mib:7.1f} MiB (idle worker {empty / mib:.1f} MiB; "
              f"opened at {n / took:.1f}/s)")  # fmt: skip
    small, big = (results[n][1] for n in sizes)
    print(
        f"summary: worker RSS with {sizes[1]} open returns is {big / small:.2f}x that with {sizes[0]} "
        f"({big / mib:.0f} vs {small / mib:.0f} MiB; target <= 1.20x; tuning {args.tuning or 'worker.TUNING'})"
    )
