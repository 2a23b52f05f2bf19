"""Versions of the return policy in PostgreSQL: the highest is in force; the first is seeded from the file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import get_unpooled_engine
from db.models import PolicyVersion, ReturnRow
from domain.models import RELEASED_STATUSES
from domain.policy import PolicySettings, ReturnerHistory
from domain.policy_document import dump


@dataclass(frozen=True)
class StoredPolicy:
    version: int
    policy: PolicySettings
    created_by: str
    created_at: datetime


def _stored(row: PolicyVersion) -> StoredPolicy:
    # Documents are checked before they are stored; fields added since then take their defaults.
    return StoredPolicy(row.version, PolicySettings.model_validate(row.document), row.created_by, row.created_at)


async def current_policy(s: AsyncSession, seed: PolicySettings) -> StoredPolicy:
    """The version in force; with none stored yet, `seed` becomes version 1 (racing seeders agree)."""
    row = await s.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    if row is None:
        # Seeded on a connection of its own and committed at once: a caller's open transaction must not hold
        # version 1's row lock while it waits on a workflow whose claim activity seeds it too.
        # Outside the pool too: every request of a cold start seeds while it holds its own pooled connection.
        engine = s.bind
        assert isinstance(engine, AsyncEngine), "sessions are bound to the engine (db.engine.get_sessionmaker)"
        async with get_unpooled_engine(engine.url).begin() as conn:
            await conn.execute(
                insert(PolicyVersion)
                .values(version=1, document=dump(seed), created_by="policy file")
                .on_conflict_do_nothing()
            )
        row = await s.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
        assert row is not None
    return _stored(row)


async def policy_version(s: AsyncSession, version: int) -> StoredPolicy | None:
    row = await s.get(PolicyVersion, version)
    return _stored(row) if row else None


async def save_policy(s: AsyncSession, policy: PolicySettings, by: str, seed: PolicySettings) -> StoredPolicy:
    """Store `policy` as the next version; concurrent saves queue on a transaction lock, none is lost."""
    await s.execute(text("select pg_advisory_xact_lock(hashtext('reverso.policy_versions'))"))
    await current_policy(s, seed)  # the file's version stays version 1, even when the first save comes first
    latest = await s.scalar(select(func.max(PolicyVersion.version))) or 0
    row = PolicyVersion(version=latest + 1, document=dump(policy), created_by=by)
    s.add(row)
    await s.flush()
    await s.refresh(row)
    return _stored(row)


async def returner_history(s: AsyncSession, email: str, return_id: str, now: datetime, days: int) -> ReturnerHistory:
    """The shopper's other returns filed in the last `days` days that still count (not rejected or cancelled)."""
    rows = await s.scalars(
        select(ReturnRow.state).where(
            ReturnRow.email == email,
            ReturnRow.id != return_id,
            ReturnRow.created_at >= now - timedelta(days=days),
            ReturnRow.status.not_in(RELEASED_STATUSES),
        )
    )
    states = list(rows)
    value = sum(int(line["decision"].get("value", 0)) for st in states for line in st.get("lines", []))
    return ReturnerHistory(returns=len(states), value=value)
