"""The worker process the benchmarks start: worker.build_worker with the bench's workflows added.

Settings come from REVERSO_* like `reverso worker`; BENCH_TUNING (JSON) overrides worker.TUNING. With
BENCH_TRACEMALLOC=PREFIX, Python allocations are traced and SIGUSR1 writes a snapshot to PREFIX-<pid>-<n>.snap
(compare two with bench/memory_diff.py). With BENCH_CPROFILE=PREFIX, the event loop's thread (where the workflows and
the async activities run) is profiled with cProfile and SIGUSR2, and the stack's SIGTERM at the end, write the statistics so far to
PREFIX-<pid>-<n>.pstats (bench/README.md says how to read them).
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import signal
import tracemalloc
from datetime import timedelta
from itertools import count

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench.bare import BareActivitiesWorkflow, BareWorkflow, noop
from settings import Settings
from worker import build_worker, connect, use_blocking_io_threads

DURATIONS = ("graceful_shutdown_timeout", "sticky_queue_schedule_to_start_timeout")


def trace_allocations(prefix: str) -> None:
    tracemalloc.start(12)
    taken = count(1)

    def snapshot() -> None:
        tracemalloc.take_snapshot().dump(f"{prefix}-{os.getpid()}-{next(taken)}.snap")

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, snapshot)


def profile_loop(prefix: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    taken = count(1)

    def dump() -> None:
        profiler.dump_stats(f"{prefix}-{os.getpid()}-{next(taken)}.pstats")
        profiler.enable()  # dumping stops the profiler

    def dump_and_stop() -> None:
        dump()
        os._exit(0)  # the stack is tearing down: nothing of this process's state is needed

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR2, dump)
    loop.add_signal_handler(signal.SIGTERM, dump_and_stop)


async def main() -> None:
    if prefix := os.environ.get("BENCH_TRACEMALLOC"):
        trace_allocations(prefix)
    if prefix := os.environ.get("BENCH_CPROFILE"):
        profile_loop(prefix)
    settings = Settings()
    tuning = json.loads(os.environ.get("BENCH_TUNING") or "{}")
    tuning = {k: timedelta(seconds=v) if k in DURATIONS else v for k, v in tuning.items()}
    if passthrough := tuning.pop("passthrough", None):  # modules the sandbox need not import again per run
        restrictions = SandboxRestrictions.default.with_passthrough_modules(*passthrough)
        tuning["workflow_runner"] = SandboxedWorkflowRunner(restrictions=restrictions)
    use_blocking_io_threads()
    client = await connect(settings)
    worker = build_worker(client, settings, [BareWorkflow, BareActivitiesWorkflow], [noop], **tuning)
    async with worker:
        print(
            f"bench worker polling {settings.task_queue} with {os.environ.get('BENCH_TUNING') or 'worker.TUNING'}",
            flush=True,
        )
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
