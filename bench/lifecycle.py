"""Lifecycle throughput: returns driven from submit to refund per second, against the bare workflow, same run.

Each return: update-with-start `submit` (claim, label, read model), carrier scans `in_transit` and
`delivered` (signals), `record_inspection` (update), then the refund through localstripe and completion.
The bare workflow (bench/bare.py) takes the same messages and activity calls with no-op bodies, on the
same Temporal dev server and the same worker process; `--baseline bare-activities` makes its read-model writes
task-queue activities instead of local ones (the shape Reverso had before its writes became local).

Run: python -m bench.lifecycle [--returns 200] [--concurrency 20] [--baseline bare-activities]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from bench.bare import BareActivitiesWorkflow, BareWorkflow
from bench.common import machine_line, paid_orders, versions_line
from bench.profile import profiled
from bench.stack import TASK_QUEUE, cpu_line, cpu_seconds, cpu_total, stack, temporal_binary
from domain.messages import ReturnInput, SubmitRequest
from domain.models import CarrierEvent, Inspection, InspectionLine, Order, ReturnLineRequest
from workflows.return_workflow import ORDER_KEY, STATUS_KEY, ReturnWorkflow

WORKFLOWS: dict[str, Any] = {
    "bare": BareWorkflow,
    "bare-activities": BareActivitiesWorkflow,
    "reverso": ReturnWorkflow,
}


async def one_return(client: Client, wf: Any, rid: str, order: Order) -> None:
    start = WithStartWorkflowOperation(
        wf.run, ReturnInput(return_id=rid, order_number=order.number), id=rid, task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=TypedSearchAttributes([SearchAttributePair(ORDER_KEY, order.number),
                                                 SearchAttributePair(STATUS_KEY, "pending_approval")]),
    )  # fmt: skip
    lines = [ReturnLineRequest(line_id="L1", quantity=1, reason="too_small", resolution="refund")]
    answer = await client.execute_update_with_start_workflow(
        wf.submit, SubmitRequest(lines=lines), start_workflow_operation=start
    )
    shipments = answer["shipments"] if isinstance(answer, dict) else [s.model_dump() for s in answer.shipments]
    tracking = shipments[0]["tracking_number"]
    handle = client.get_workflow_handle(rid)
    for event in ("in_transit", "delivered"):
        scan = CarrierEvent(
            tracking_number=tracking, event=event, occurred_at=datetime.now(UTC), event_id=f"{rid}:{event}"
        )
        await handle.signal(wf.carrier_event, scan)
    inspection = Inspection(lines=[InspectionLine(line_id="L1", accepted_quantity=1, condition="new", restock=True)],
                            inspected_by="bench")  # fmt: skip
    for _ in range(200):
        try:
            await handle.execute_update(wf.record_inspection, inspection)
            break
        except WorkflowUpdateFailedError:
            # The delivered scan's handler may not have run yet when the update's validator does, as when
            # a warehouse worker scans a parcel the instant it lands: try again like the console would.
            await asyncio.sleep(0.02)
    else:
        raise RuntimeError(f"{rid}: inspection never accepted")
    result = await handle.result()
    assert result == "completed", f"{rid} ended {result}"


async def drive(client: Client, kind: str, orders: list[Order], concurrency: int, tag: str) -> float:
    """Returns completed per second with `concurrency` returns in flight at any moment."""
    wf = WORKFLOWS[kind]
    gate = asyncio.Semaphore(concurrency)

    async def go(i: int, order: Order) -> None:
        async with gate:
            await one_return(client, wf, f"R-{tag}-{i:06d}", order)

    started = time.perf_counter()
    await asyncio.gather(*(go(i, o) for i, o in enumerate(orders)))
    return len(orders) / (time.perf_counter() - started)


async def bench(args: argparse.Namespace) -> None:
    with stack() as st:
        print(machine_line())
        print(versions_line(st.db_url, temporal_binary()))
        worker = st.start_worker(json.loads(args.tuning) if args.tuning else None)
        client = await st.client()
        kinds = [args.baseline, "reverso"]
        orders = {
            k: await paid_orders(st.settings, args.returns + args.warmup, prefix=f"L{j}") for j, k in enumerate(kinds)
        }
        for kind in kinds:  # warm-up: imports, sandbox, connection pools
            await drive(client, kind, orders[kind][: args.warmup], args.concurrency, f"W{kind[:3].upper()}")
        rates: dict[str, list[float]] = {k: [] for k in kinds}
        cpus: dict[str, list[float]] = {k: [] for k in kinds}
        per_round = args.returns // args.rounds
        for r in range(args.rounds):  # alternate, so a noisy neighbour hurts both sides alike
            for kind in kinds:
                batch = orders[kind][args.warmup + r * per_round : args.warmup + (r + 1) * per_round]
                cpu = cpu_seconds(st)
                with profiled(worker.pid, args.profile and f"{args.profile}-{kind}-{r + 1}.txt"):
                    rate = await drive(client, kind, batch, args.concurrency, f"{kind[:3].upper()}{r}")
                rates[kind].append(rate)
                print(f"round {r + 1}: {kind:<16} {len(batch)} returns, {rate:7.2f} completed/s")
                after = cpu_seconds(st)
                print(cpu_line(cpu, after, len(batch), "return"))
                cpus[kind].append(cpu_total(cpu, after) / len(batch))
        bare, real = (sum(rates[k]) / len(rates[k]) for k in kinds)
        print(f"{args.baseline:<19}: {bare:7.2f} returns/s")
        print(f"{'reverso':<19}: {real:7.2f} returns/s")
        bare_cpu, real_cpu = (1000 * sum(cpus[k]) / len(cpus[k]) for k in kinds)
        print(
            f"CPU per return (stack): {args.baseline} {bare_cpu:.0f} ms, reverso {real_cpu:.0f} ms: where CPU is the "
            f"only limit, the ratio would be {bare_cpu / real_cpu:.2f}"
        )
        print(f"summary: lifecycle {real:.1f} returns/s = {real / bare:.2f} of the {args.baseline} workflow's "
              f"{bare:.1f}/s ({args.returns} returns, {args.concurrency} in flight; target >= 0.80)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--returns", type=int, default=200, help="returns per side (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="returns in flight (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side (default 2)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--baseline", choices=["bare", "bare-activities"], default="bare",
                        help="bare-activities: the bare workflow's read-model writes as task-queue activities")  # fmt: skip
    parser.add_argument("--tuning", help='worker keyword overrides as JSON, e.g. {"max_cached_workflows": 500}')
    parser.add_argument("--profile", help="record the worker with py-spy into PROFILE-<side>-<round>.txt (collapsed)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
