"""Portal latency: concurrent shoppers submit returns and read their status over HTTP, against a bare round trip.

Each shopper signs in with order number and e-mail, POSTs /api/v1/returns (policy, claim, label, read
model: update-with-start on the workflow), then GETs /api/v1/returns/{id} a few times, and POSTs the same
body to /bench/bare-returns (the same update-with-start on the bare workflow: no-op activities, no
database, no sign-in), interleaved so the machine's noise falls on both. The API runs under uvicorn
in its own process (bench/portal_app.py), the worker in another. The shoppers' client is aiohttp: httpx,
measured here, spent ~5 ms of its own per request on this machine, more than the status read itself costs
the API, and twenty shoppers in one client process queue behind each other's client work.

Run: python -m bench.portal_latency [--shoppers 20] [--returns-per-shopper 5] [--reads 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench.common import fmt_ms, machine_line, paid_orders, percentiles, versions_line
from bench.profile import profiled
from bench.stack import cpu_line, cpu_seconds, stack, temporal_binary
from domain.models import Order
from tests.support import services

Samples = dict[str, list[float]]
Filed = list[tuple[str, dict[str, str]]]  # (return id, the shopper's auth header) of each return filed


async def call(http: aiohttp.ClientSession, method: str, path: str, status: int, out: list[float] | None = None,
               **kw: Any) -> Any:  # fmt: skip
    """The response's JSON body; its time from sending to the whole body read goes to `out`."""
    t = time.perf_counter()
    async with http.request(method, path, **kw) as r:
        body = await r.read()
    if out is not None:
        out.append(time.perf_counter() - t)
    assert r.status == status, f"{method} {path}: {r.status} {body[:2000]!r}"
    return json.loads(body)


async def read_only(http: aiohttp.ClientSession, filed: Filed, reads: int, out: list[float]) -> None:
    for rid, auth in filed:
        for _ in range(reads):
            await call(http, "GET", f"/api/v1/returns/{rid}", 200, out, headers=auth)


async def shopper(http: aiohttp.ClientSession, orders: list[Order], reads: int, samples: Samples, filed: Filed) -> None:
    for order in orders:
        signed_in = await call(http, "POST", "/api/v1/portal/session", 200,
                               json={"order_number": order.number, "email": order.email})  # fmt: skip
        auth = {"Authorization": f"Bearer {signed_in['token']}"}
        body = {"order_number": order.number,
                "lines": [{"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "refund"}]}  # fmt: skip
        rid = (await call(http, "POST", "/api/v1/returns", 201, samples["submit"], json=body, headers=auth))["id"]
        filed.append((rid, auth))
        await call(http, "POST", "/bench/bare-returns", 201, samples["bare"], json=body)
        for _ in range(reads):
            view = await call(http, "GET", f"/api/v1/returns/{rid}", 200, samples["status"], headers=auth)
            assert view["status"] == "awaiting_shipment", view


async def bench(args: argparse.Namespace) -> None:
    with stack() as st:
        print(machine_line())
        print(versions_line(st.db_url, temporal_binary()))
        st.start_worker()
        port = services.free_port()
        cmd = [sys.executable, "-m", "uvicorn", "bench.portal_app:app", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
        with services._process(cmd, st.tmp / "api.log", st.env()) as api:
            services._wait_port(port, api, st.tmp / "api.log")
            st.api_pid = api.pid
            per = args.returns_per_shopper
            orders = await paid_orders(st.settings, args.shoppers * per + args.shoppers)
            connector = aiohttp.TCPConnector(limit=args.shoppers * 2)
            async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=connector,
                                             timeout=aiohttp.ClientTimeout(total=60)) as http:  # fmt: skip
                warm: Samples = {"submit": [], "bare": [], "status": []}
                try:
                    await asyncio.gather(*(shopper(http, [orders[i]], 1, warm, []) for i in range(args.shoppers)))
                except AssertionError:
                    print((st.tmp / "api.log").read_text()[-4000:])  # the API's own account of the failure
                    raise
                samples: Samples = {"submit": [], "bare": [], "status": []}
                filed: Filed = []
                rest = orders[args.shoppers :]
                cpu = cpu_seconds(st)
                started = time.perf_counter()
                with profiled(api.pid, args.profile):
                    await asyncio.gather(
                        *(
                            shopper(http, rest[i * per : (i + 1) * per], args.reads, samples, filed)
                            for i in range(args.shoppers)
                        )
                    )
                elapsed = time.perf_counter() - started
                print(cpu_line(cpu, cpu_seconds(st), len(rest), "shopper visit"))
                # The same reads one at a time with no submit running: what the read path itself costs.
                quiet: list[float] = []
                await read_only(http, filed, args.reads, quiet)
        n = len(samples["submit"])
        print(f"{args.shoppers} shoppers, {n} returns in {elapsed:.1f} s, {len(samples['status'])} status reads")
        stats = {k: percentiles(v) for k, v in samples.items()}
        print(f"POST /api/v1/returns       {fmt_ms(stats['submit'])}")
        print(f"POST bare round trip       {fmt_ms(stats['bare'])}")
        print(f"GET  /api/v1/returns/{{id}}  {fmt_ms(stats['status'])}")
        print(f"  one at a time, idle     {fmt_ms(percentiles(quiet))}")
        ratio = stats["submit"][2] / stats["bare"][2]
        print(f"summary: submit p99 {stats['submit'][2]:.0f} ms = {ratio:.2f}x the bare round trip's "
              f"{stats['bare'][2]:.0f} ms (target <= 1.5x); status p99 {stats['status'][2]:.1f} ms "
              f"(target < 20 ms; {percentiles(quiet)[2]:.1f} ms one at a time on an idle stack); {args.shoppers} concurrent shoppers")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=20, help="concurrent shoppers (default 20)")
    parser.add_argument("--returns-per-shopper", type=int, default=5, help="returns each shopper files (default 5)")
    parser.add_argument("--reads", type=int, default=3, help="status reads after each submit (default 3)")
    parser.add_argument("--profile", help="record the API process with py-spy into PROFILE (collapsed stacks)")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
