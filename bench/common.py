"""What every benchmark prints (machine, versions, percentiles) and the paid orders they return against."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from importlib.metadata import version

import psycopg
import stripe
from sqlalchemy.engine import make_url

from db.engine import get_sessionmaker
from db.queries import upsert_inventory, upsert_order
from domain.models import Order
from settings import Settings


def machine_line() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: {os.cpu_count()} cores, {mem:.1f} GiB, load average {load} at start"


def versions_line(db_url: str | None = None, temporal: str | None = None) -> str:
    parts = [f"Python {platform.python_version()}"]
    parts += [f"{name} {version(name)}" for name in ("temporalio", "fastapi", "sqlalchemy", "psycopg")]
    if temporal:
        out = subprocess.run([temporal, "--version"], capture_output=True, text=True).stdout.strip()
        parts.append(out.replace("temporal version ", "temporal CLI ").split(" (")[0])
    if db_url:
        plain = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(plain) as conn:
            row = conn.execute("show server_version").fetchone()
        parts.append(f"PostgreSQL {str(row[0]).split()[0] if row else '?'}")
    return "versions: " + ", ".join(parts)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 of samples in seconds, returned in milliseconds."""
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49] * 1000, q[94] * 1000, q[98] * 1000


def fmt_ms(p: tuple[float, float, float]) -> str:
    return f"p50 {p[0]:7.1f} ms  p95 {p[1]:7.1f} ms  p99 {p[2]:7.1f} ms"


async def paid_orders(
    settings: Settings, n: int, prefix: str = "B", unit_price: int = 2500, pay: bool = True
) -> list[Order]:
    """n delivered orders of one tee each, paid through localstripe (unless not `pay`), as the shop pushes them."""
    client = stripe.StripeClient("sk_test_bench", base_addresses={"api": settings.stripe_api_base or ""})
    now = datetime.now(UTC)
    run = uuid.uuid4().hex[:6].upper()

    def charge() -> str:
        pi = client.v1.payment_intents.create(
            {"amount": unit_price, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
        )
        return pi.id

    refs = [await asyncio.to_thread(charge) if pay else f"pi_unpaid_{i}" for i in range(n)]
    orders = [
        Order.model_validate(
            {
                "number": f"{prefix}{run}{i:06d}",
                "email": f"shopper{i}@example.com",
                "currency": "EUR",
                "placed_at": now - timedelta(days=7),
                "delivered_at": now - timedelta(days=5),
                "payment": {"provider": "stripe", "reference": refs[i]},
                "shipping_address": {
                    "name": "Ana Sousa",
                    "line1": "Rua das Flores 28",
                    "city": "Porto",
                    "postal_code": "4050-262",
                    "country": "PT",
                },
                "lines": [
                    {
                        "id": "L1",
                        "sku": "TEE-M",
                        "title": "Tee, M",
                        "quantity": 1,
                        "unit_price": unit_price,
                        "final_sale": False,
                    }
                ],
            }
        )  # fmt: skip
        for i in range(n)
    ]
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await upsert_inventory(s, "TEE-M", "Tee, M", 2500, "EUR", 10**6)
        for order in orders:
            await upsert_order(s, order)
    return orders
