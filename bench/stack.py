"""The embedded stack for a benchmark: PostgreSQL, the Temporal dev server, localstripe, an SMTP sink and a
worker process, each started the way `reverso dev` and tests/support/services.py start them."""

from __future__ import annotations

import base64
import compileall
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from db.migrate import upgrade
from settings import Settings
from tests.support import services

TASK_QUEUE = "bench"
ROOT = Path(__file__).resolve().parent.parent


def compile_like_the_image() -> None:
    """Write the bytecode the Docker image's `pip install .` writes.

    The sandbox imports a workflow's module afresh for every workflow it starts; without bytecode (a checkout
    under PYTHONDONTWRITEBYTECODE=1, as on these machines) each start compiles workflows/*.py from source
    (about 18 ms a return here), a cost no deployment pays.
    """
    for package in ("domain", "workflows", "activities", "db", "labels"):
        compileall.compile_dir(ROOT / package, quiet=1)


def temporal_binary() -> str:
    local = Path(sys.executable).parent / "temporal"
    return str(local) if local.exists() else "temporal"


class Stack:
    """Everything but the worker starts once; the worker is a separate process that can be restarted."""

    def __init__(self, exits: ExitStack, tmp: Path) -> None:
        self.tmp = tmp
        self.db_url = exits.enter_context(services.postgres_url(tmp))
        upgrade(self.db_url)
        self.stripe_url = exits.enter_context(services.localstripe(tmp / "stripe"))
        smtp_port = services.free_port()
        (tmp / "mail").mkdir()
        smtp = [sys.executable, "-m", "devpeers", "smtp", "--port", str(smtp_port), "--mail-dir", str(tmp / "mail")]
        proc = exits.enter_context(services._process(smtp, tmp / "smtp.log"))
        services._wait_port(smtp_port, proc, tmp / "smtp.log")
        self.temporal_port = services.free_port()
        temporal = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.temporal_port),
                    "--ui-port", str(services.free_port()), "--db-filename", str(tmp / "temporal.db"), "--headless",
                    "--search-attribute", "ReturnStatus=Keyword", "--search-attribute", "OrderNumber=Keyword",
                    "--log-level", "error"]  # fmt: skip
        self.temporal = exits.enter_context(services._process(temporal, tmp / "temporal.log"))
        services._wait_port(self.temporal_port, self.temporal, tmp / "temporal.log", timeout=60)
        self.settings = Settings(
            database_url=self.db_url, temporal_address=f"127.0.0.1:{self.temporal_port}", task_queue=TASK_QUEUE,
            stripe_api_base=self.stripe_url, stripe_api_key="sk_test_bench", smtp_port=smtp_port,
            state_dir=tmp / "state", carrier_webhook_secret="whsec_" + base64.b64encode(os.urandom(24)).decode(),
        )  # fmt: skip
        self.worker: subprocess.Popen[bytes] | None = None
        self.api_pid: int | None = None  # an API process a benchmark started, counted in cpu_seconds
        self._worker_ctx: Any = None
        exits.callback(self.stop_worker)

    def env(self) -> dict[str, str]:
        s = self.settings
        values = {"database_url": s.database_url, "temporal_address": s.temporal_address, "task_queue": s.task_queue,
                  "stripe_api_base": s.stripe_api_base, "stripe_api_key": "sk_test_bench", "smtp_port": s.smtp_port,
                  "smtp_host": "127.0.0.1", "state_dir": s.state_dir,
                  "carrier_webhook_secret": s.webhook_secret()}  # fmt: skip
        return services._env(**{f"REVERSO_{k.upper()}": str(v) for k, v in values.items()})

    async def client(self) -> Client:
        for _ in range(100):  # the dev server opens its port a moment before it answers
            try:
                return await Client.connect(self.settings.temporal_address, data_converter=pydantic_data_converter)
            except RuntimeError:
                time.sleep(0.2)
        raise RuntimeError("the Temporal dev server does not answer")

    def start_worker(self, tuning: dict[str, Any] | None = None, log: str = "worker.log") -> psutil.Process:
        """`python -m bench.worker_proc` with the product's worker plus the bench's workflows; waits until polling."""
        self.stop_worker()
        compile_like_the_image()
        env = {**self.env(), "BENCH_TUNING": json.dumps(tuning or {})}
        path = self.tmp / log
        self._worker_ctx = services._process([sys.executable, "-m", "bench.worker_proc"], path, env)
        self.worker = self._worker_ctx.__enter__()
        deadline = time.monotonic() + 60
        while b"polling" not in (path.read_bytes() if path.exists() else b""):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bench worker did not start:\n{services._tail(path)}")
            time.sleep(0.1)
        return psutil.Process(self.worker.pid)

    def stop_worker(self) -> None:
        if self._worker_ctx is not None:
            self._worker_ctx.__exit__(None, None, None)
            self._worker_ctx = self.worker = None


@contextmanager
def stack(prefix: str = "reverso-bench-") -> Iterator[Stack]:
    with ExitStack() as exits:
        tmp = exits.enter_context(services.scratch_dir(prefix))
        yield Stack(exits, tmp)


def _part(proc: psutil.Process) -> str:
    cmd = " ".join(proc.cmdline())
    for name in ("bench.worker_proc", "temporal", "devpeers stripe", "devpeers smtp", "uvicorn", "postgres"):
        if name in cmd or name in proc.name():
            return name.replace("devpeers ", "").replace("bench.worker_proc", "worker")
    return proc.name()


def cpu_seconds(st: Stack) -> dict[str, float]:
    """CPU seconds so far of each part of this stack (found by its temp dir), PostgreSQL backends included."""
    used: dict[str, float] = {}
    marks = [str(st.tmp), str(make_url(st.db_url).query.get("host", st.tmp))]
    for proc in psutil.process_iter():
        try:
            cmd = " ".join(proc.cmdline())
            if not any(m in cmd for m in marks) and proc.pid not in (st.worker and st.worker.pid, st.api_pid):
                continue
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                used[_part(proc)] = used.get(_part(proc), 0.0) + t.user + t.system
        except psutil.Error:
            continue
    return used


def cpu_line(before: dict[str, float], after: dict[str, float], per: int, what: str) -> str:
    parts = sorted(((k, after[k] - before.get(k, 0.0)) for k in after), key=lambda x: -x[1])
    total = sum(v for _, v in parts)
    return f"  CPU ms per {what}: {1000 * total / per:.0f} = " + ", ".join(
        f"{k} {1000 * v / per:.0f}" for k, v in parts if v > 0.005
    )


def cpu_total(before: dict[str, float], after: dict[str, float]) -> float:
    return sum(after[k] - before.get(k, 0.0) for k in after)
