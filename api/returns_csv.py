"""The staff's list of returns as a CSV file (`GET /api/v1/returns.csv` and the admin console's Export CSV).

Same query as the list; amounts in minor units as everywhere in the API. A spreadsheet runs a cell that starts
with = + - @ (or a tab or carriage return) as a formula, and e-mail addresses and order numbers come from shoppers
and shops: such a cell is written with a leading apostrophe, so it is shown as text.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ReturnRow
from db.queries import list_returns

COLUMNS = ("id", "status", "order_number", "email", "currency", "refund_total", "store_credit_total",
           "fees_total", "attention", "attention_code", "created_at", "updated_at")  # fmt: skip
MOST_ROWS = 10_000  # one file; a larger export pages with offset
BATCH = 500
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _row(r: ReturnRow) -> list[str]:
    state = r.state or {}
    values = (r.id, r.status, r.order_number, r.email, r.currency, r.refund_total, r.store_credit_total, r.fees_total,
              "true" if r.attention else "false", state.get("attention_code") or "",
              r.created_at.isoformat(), r.updated_at.isoformat())  # fmt: skip
    return [cell(v) for v in values]


async def returns_csv(
    db: AsyncSession, status: str | None, q: str | None, attention: bool | None, sort: str, limit: int, offset: int
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    done = 0
    while done < limit:
        _, rows = await list_returns(db, status, q, min(BATCH, limit - done), offset + done, attention=attention,
                                     sort=sort)  # fmt: skip
        writer.writerows(_row(r) for r in rows)
        done += len(rows)
        if len(rows) < BATCH:
            break
    name = f"returns-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})  # fmt: skip
