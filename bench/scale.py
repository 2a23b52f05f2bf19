"""Scale: staff list and searches at 100,000 returns, and one worker's memory with 10,000 open returns vs 1,000.

Queries: realistic rows are bulk-inserted into the read model, then the staff API's own handler
(GET /api/v1/returns, in-process over ASGI with a staff token, which calls db.queries.list_returns)
answers the list, a search by e-mail, by tracking number and by status, one request at a time.
Memory: see bench/worker_memory.py.

Run: python -m bench.scale [--rows 100000] [--requests 200] [--open 10000] [--open-baseline 1000]
                           [--only queries|memory]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from typing import Any

import httpx

from api.auth import create_staff_token
from api.main import create_app
from bench.common import fmt_ms, machine_line, percentiles, versions_line
from bench.read_model_rows import STATUSES, insert_returns
from bench.stack import stack, temporal_binary
from bench.worker_memory import memory_bench
from db.engine import get_sessionmaker
from db.queries import list_returns
from settings import Settings


async def query_bench(settings: Settings, rows: int, requests: int) -> None:
    url = settings.resolved_database_url()
    started = time.perf_counter()
    needles = await asyncio.to_thread(insert_returns, url, rows)
    print(f"read model: {rows} returns (with orders and shipments) loaded in {time.perf_counter() - started:.0f} s")
    async with get_sessionmaker(url).begin() as s:
        token = await create_staff_token(s, "admin", "bench")
    rnd = random.Random(11)
    kinds: dict[str, Any] = {
        "staff list (newest first)": lambda: {},
        "search by e-mail": lambda: {"q": rnd.choice(needles["email"])},
        "search by tracking number": lambda: {"q": rnd.choice(needles["tracking"])},
        "filter by status": lambda: {"status": rnd.choice(list(STATUSES))},
    }
    transport = httpx.ASGITransport(app=create_app(settings))
    p99s = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                 headers={"Authorization": f"Bearer {token}"}) as http:  # fmt: skip
        for name, params in kinds.items():
            for _ in range(5):  # warm the pool and the plan cache
                (await http.get("/api/v1/returns", params=params())).raise_for_status()
            samples, db_samples = [], []
            cpu = time.process_time()
            for _ in range(requests):
                p = params()
                t = time.perf_counter()
                r = await http.get("/api/v1/returns", params=p)
                samples.append(time.perf_counter() - t)
                assert r.status_code == 200 and (r.json()["items"] or "status" in p), (p, r.text)
            cpu = (time.process_time() - cpu) / requests
            async with get_sessionmaker(url)() as s:  # the query function alone: SQL and rows, no HTTP
                for _ in range(requests):
                    p = params()
                    t = time.perf_counter()
                    await list_returns(s, p.get("status"), p.get("q"), 50, 0)
                    db_samples.append(time.perf_counter() - t)
            stats, db_stats = percentiles(samples), percentiles(db_samples)
            p99s[name] = stats[2]
            print(f"{name:<27} {fmt_ms(stats)}  (API process CPU {1000 * cpu:.1f} ms/request; "
                  f"list_returns alone p50 {db_stats[0]:.1f} ms p99 {db_stats[2]:.1f} ms)")  # fmt: skip
    worst = max(p99s, key=lambda k: p99s[k])
    print(f"summary: at {rows} returns the worst p99 is {p99s[worst]:.1f} ms ({worst}); "
          f"target < 50 ms for the list and every search")  # fmt: skip


async def bench(args: argparse.Namespace) -> None:
    with stack() as st:
        print(machine_line())
        print(versions_line(st.db_url, temporal_binary()))
        if args.only in (None, "queries"):
            await query_bench(st.settings, args.rows, args.requests)
        if args.only in (None, "memory"):
            await memory_bench(st, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="returns in the read model (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="requests per query kind (default 200)")
    parser.add_argument("--open", type=int, default=10_000, help="open returns held by one worker (default 10000)")
    parser.add_argument("--open-baseline", type=int, default=1_000, help="the comparison (default 1000)")
    parser.add_argument("--concurrency", type=int, default=20, help="returns being opened at once (default 20)")
    parser.add_argument(
        "--open-path",
        choices=["label", "approval"],
        default="label",
        help="label: open returns await shipment (default); approval: they await an admin",
    )
    parser.add_argument("--tuning", help='worker keyword overrides as JSON, e.g. {"max_cached_workflows": 100}')
    parser.add_argument("--only", choices=["queries", "memory"])
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
