"""Realistic read-model rows in bulk (COPY): orders, returns with their full state JSON, and shipments."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from domain.models import ReturnState

# Roughly how a year of returns spreads over the statuses: most are finished.
STATUSES = {"completed": 0.62, "awaiting_shipment": 0.12, "in_transit": 0.06, "received": 0.03,
            "pending_approval": 0.03, "pending_refund_review": 0.02, "rejected": 0.03, "cancelled": 0.04,
            "expired": 0.05}  # fmt: skip
STEPS = ["return requested: within 30 days of delivery; auto-approved",
         "return label issued, tracking number {t}", "parcel scanned by the carrier",
         "parcel delivered to the warehouse", "inspected by ana-warehouse: L1: 1 accepted (new)",
         "completed: refunded €25.00"]  # fmt: skip


def state(i: int, rid: str, order: str, email: str, status: str, tracking: str, at: datetime) -> dict[str, Any]:
    lines = 1 + (i % 5 == 0)
    done = status == "completed"
    steps = len(STEPS) if done else 2 + (status in ("in_transit", "received")) + (status == "received")
    return ReturnState.model_validate({
        "id": rid, "order_number": order, "email": email, "currency": "EUR", "status": status,
        "lines": [{"decision": {"line_id": f"L{n + 1}", "sku": f"TEE-{'SML'[n % 3]}", "title": "Organic tee",
                                "quantity": 1, "unit_price": 2500, "reason": "too_small", "resolution": "refund",
                                "eligible": True, "value": 2500, "refund": 2500,
                                "reasons": ["within 30 days of delivery", "no restocking fee"]},
                   "accepted_quantity": 1 if done else None, "condition": "new" if done else None,
                   "restock": True if done else None, "refunded": 2500 if done else 0} for n in range(lines)],
        "shipments": [{"direction": "inbound", "carrier": "local", "tracking_number": tracking,
                       "label_url": f"/api/v1/returns/{rid}/label.pdf", "status": "label_created"}],
        "timeline": [{"seq": n + 1, "at": at + timedelta(hours=n * 30), "status": status,
                      "message": STEPS[n].format(t=tracking)} for n in range(steps)],
        "decision_reasons": ["within 30 days of delivery"], "refund_total": 2500 * lines if done else 0,
        "version": steps, "created_at": at, "updated_at": at + timedelta(hours=(steps - 1) * 30),
    }).model_dump(mode="json")  # fmt: skip


def plain_url(db_url: str) -> str:
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def insert_returns(db_url: str, n: int, seed: int = 7) -> dict[str, list[str]]:
    """n returns (about 0.7 n shoppers, some with several), their orders and shipments; returns sample needles."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    statuses, weights = list(STATUSES), list(STATUSES.values())
    needles: dict[str, list[str]] = {"email": [], "tracking": [], "order": []}
    with psycopg.connect(plain_url(db_url)) as conn, conn.cursor() as cur:
        rows = []
        for i in range(n):
            shopper = rnd.randrange(int(n * 0.7) + 1)
            email = f"shopper{shopper}@example.com"
            order, rid, tracking = f"S{i:07d}", f"R-S{i:08d}", f"LC{rnd.randrange(10**12):012d}"
            at = now - timedelta(days=rnd.uniform(0, 365))
            status = rnd.choices(statuses, weights)[0]
            rows.append((order, rid, email, status, tracking, at, state(i, rid, order, email, status, tracking, at)))
            if i % max(1, n // 500) == 0:
                needles["email"].append(email)
                needles["tracking"].append(tracking)
                needles["order"].append(order)
        with cur.copy("COPY orders (number, email, data, created_at, updated_at) FROM STDIN") as copy:
            for order, _, email, _, _, at, _ in rows:
                copy.write_row((order, email, json.dumps({"number": order, "email": email}), at, at))
        with cur.copy("COPY returns (id, order_number, email, status, currency, refund_total, store_credit_total, "
                      "fees_total, state, version, created_at, updated_at) FROM STDIN") as copy:  # fmt: skip
            for order, rid, email, status, _, at, st in rows:
                copy.write_row((rid, order, email, status, "EUR", st["refund_total"], 0, 0, json.dumps(st),
                                st["version"], at, st["updated_at"]))  # fmt: skip
        with cur.copy("COPY shipments (tracking_number, return_id, direction, carrier, status, created_at) "
                      "FROM STDIN") as copy:  # fmt: skip
            for _, rid, _, _, tracking, at, _ in rows:
                copy.write_row((tracking, rid, "inbound", "local", "label_created", at))
        conn.commit()
    with psycopg.connect(plain_url(db_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE orders, returns, shipments")  # what autovacuum does soon after a load
    return needles
