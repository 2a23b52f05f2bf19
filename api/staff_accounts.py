"""Staff accounts: people sign in to the consoles with e-mail and password; tokens stay for the shop's systems.

Passwords are hashed with argon2id (argon2-cffi). An unknown e-mail is checked against a dummy hash, so the answer
takes as long as for a known one. After LOCK_AFTER wrong passwords in a row the account is locked for LOCK_FOR:
every sign-in, the right password too, is refused with the time left. The count is kept under a transaction-scoped
advisory lock per account and read again once the lock is held (as api.portal_access does): parallel guesses are
checked against the hash, but only the first LOCK_AFTER of them get an answer that says whether they were right.

A set-password or reset link carries a random token of which only the SHA-256 is stored; it expires and works once.
A console session of an account is a row of staff_sessions with `account_id` set; it ends at sign-out, at expiry,
when the password is set anew and when the account is disabled (the join in api.auth.ACCOUNT_SESSION).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import smtplib
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from api.auth import ACCOUNT_ROLES, Staff, console_role, hash_token
from db.models import StaffAccount, StaffAccountToken, StaffSession
from domain.text import Email, ShortText
from settings import Settings

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
LINK_LIFETIMES = {"invite": timedelta(days=7), "reset": timedelta(hours=1)}
RESET_PAUSE = timedelta(minutes=1)  # at most one reset e-mail a minute per account, while its last link is unused
# Another space than api.portal_access's, so an account id never waits on a portal sign-in's key.
LOCK_SPACE = 0x525641  # "RVA"
LOCK = text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:id AS integer))")

BY_EMAIL = select(StaffAccount).where(StaffAccount.email == bindparam("email"))

hasher = PasswordHasher()  # argon2id with RFC 9106's low-memory parameters
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_NAME: TypeAdapter[str] = TypeAdapter(ShortText)


class WrongPair(Exception):
    """No enabled account with this e-mail and password (one answer for either half)."""


class Locked(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"locked for {seconds} s")
        self.seconds = seconds

    @property
    def minutes(self) -> int:
        return math.ceil(self.seconds / 60)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    roles: tuple[str, ...]

    @property
    def console_role(self) -> str:
        return console_role(self.roles)


def _account(row: StaffAccount) -> Account:
    return Account(id=row.id, email=row.email, name=row.name, roles=tuple(row.roles))


@cache
def _ehlo_name() -> str:
    # smtplib asks the resolver for this machine's name at every connection unless told; it does not change.
    return socket.getfqdn()


def now() -> datetime:
    return datetime.now(UTC)


@cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def _matches(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _seconds_left(locked_until: datetime | None, at: datetime) -> int:
    return 0 if locked_until is None or locked_until <= at else math.ceil((locked_until - at).total_seconds())


def _address(email: str) -> str | None:
    """The address as accounts store it, or None for what cannot be one (it matches no account: never a query
    with a value the database cannot take)."""
    try:
        return _EMAIL.validate_python(email.strip())
    except ValidationError:
        return None


# --- signing in ----------------------------------------------------------------------------------------------------


async def authenticate(db: AsyncSession, email: str, password: str) -> Account:
    """The enabled account with this e-mail and password, else WrongPair, or Locked while it is locked.
    Commits (the count of failures, or their reset), which also gives the advisory lock back."""
    address = _address(email)
    row = None if address is None else (await db.execute(BY_EMAIL, {"email": address})).scalar_one_or_none()
    if row is None or row.password_hash is None:
        await asyncio.to_thread(_matches, _dummy_hash(), password)
        raise WrongPair
    if left := _seconds_left(row.locked_until, now()):
        raise Locked(left)  # no hashing while locked: a locked account costs an attacker's burst nothing
    checked_hash, account = row.password_hash, _account(row)
    right = await asyncio.to_thread(_matches, checked_hash, password)
    await db.execute(LOCK, {"space": LOCK_SPACE, "id": account.id})
    await db.refresh(row)  # what the guesses that held the lock before this one wrote
    at = now()
    if left := _seconds_left(row.locked_until, at):
        await db.rollback()
        raise Locked(left)
    if row.disabled_at is not None:
        await db.rollback()
        raise WrongPair
    if not right or row.password_hash != checked_hash:
        row.failed += 1
        locks = row.failed >= LOCK_AFTER
        if locks:
            row.failed, row.locked_until = 0, at + LOCK_FOR
        await db.commit()
        raise Locked(int(LOCK_FOR.total_seconds())) if locks else WrongPair
    row.failed, row.locked_until = 0, None
    if hasher.check_needs_rehash(checked_hash):
        row.password_hash = await asyncio.to_thread(hasher.hash, password)
    await db.commit()
    return account


async def open_account_session(db: AsyncSession, account: Account, hours: int) -> tuple[Staff, str]:
    """A console session for the account: (who, the session id for the staff_session cookie). The caller commits.
    Its Staff.name is the person's name, so the timelines and decisions it makes name them."""
    session_id = "rvc_" + secrets.token_urlsafe(32)
    at = now()
    await db.execute(delete(StaffSession).where(StaffSession.expires_at <= at))  # nobody's, any more
    db.add(StaffSession(id_hash=hash_token(session_id), account_id=account.id, expires_at=at + timedelta(hours=hours)))
    return Staff(name=account.name, role=account.console_role, roles=account.roles), session_id


async def _end_sessions(db: AsyncSession, account_id: int) -> None:
    await db.execute(delete(StaffSession).where(StaffSession.account_id == account_id))


# --- invitations, resets and links ---------------------------------------------------------------------------------


def check_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(r.strip().lower() for r in roles if r.strip()))
    unknown = [r for r in wanted if r not in ACCOUNT_ROLES]
    if not wanted or unknown:
        raise ValueError(f"roles must be one or more of {', '.join(ACCOUNT_ROLES)}")
    return wanted


async def _issue_link(db: AsyncSession, account_id: int, purpose: str) -> str:
    """A new one-time token; the account's older links stop working, so only the newest e-mail opens it."""
    token = "rvl_" + secrets.token_urlsafe(32)
    at = now()
    await db.execute(update(StaffAccountToken).where(StaffAccountToken.account_id == account_id,
                                                     StaffAccountToken.used_at.is_(None)).values(used_at=at))  # fmt: skip
    db.add(StaffAccountToken(token_hash=hash_token(token), account_id=account_id, purpose=purpose,
                             expires_at=at + LINK_LIFETIMES[purpose]))  # fmt: skip
    return token


async def invite(
    db: AsyncSession, email: str, roles: list[str] | tuple[str, ...], name: str | None = None
) -> tuple[Account, str]:
    """Create the account (or give an existing one these roles and enable it again) and a link to set its password.
    ValueError for a bad e-mail, name or role. The caller commits."""
    try:
        address = _EMAIL.validate_python(email)
        shown_name = _NAME.validate_python(name.strip() if name else address.split("@")[0])
    except ValidationError as e:
        raise ValueError(e.errors()[0]["msg"].removeprefix("Value error, ")) from None
    wanted = list(check_roles(roles))
    row = (await db.execute(BY_EMAIL, {"email": address})).scalar_one_or_none()
    if row is None:
        row = StaffAccount(email=address, name=shown_name, roles=wanted)
        db.add(row)
        await db.flush()
    else:
        row.roles, row.disabled_at = wanted, None
        if name:
            row.name = shown_name
    return _account(row), await _issue_link(db, row.id, "invite")


async def grant(db: AsyncSession, email: str, roles: list[str] | tuple[str, ...]) -> Account | None:
    """Add roles to an existing account, keeping the ones it has; its sessions act with them at their next request.
    None when there is no such account; ValueError for a bad role. The caller commits."""
    wanted = check_roles(roles)
    address = _address(email)
    row = None if address is None else (await db.execute(BY_EMAIL, {"email": address})).scalar_one_or_none()
    if row is None:
        return None
    row.roles = list(dict.fromkeys([*row.roles, *wanted]))
    return _account(row)


async def start_reset(db: AsyncSession, email: str) -> tuple[Account, str] | None:
    """A reset link for an enabled account with this e-mail; None when there is none, or when one was sent less than
    RESET_PAUSE ago and is still unused. The caller commits."""
    address = _address(email)
    row = None if address is None else (await db.execute(BY_EMAIL, {"email": address})).scalar_one_or_none()
    if row is None or row.disabled_at is not None:
        return None
    # The form answers anyone: without this, a script could fill the person's inbox with reset e-mails.
    recent = await db.scalar(select(StaffAccountToken.token_hash).where(
        StaffAccountToken.account_id == row.id, StaffAccountToken.purpose == "reset",
        StaffAccountToken.used_at.is_(None), StaffAccountToken.created_at > now() - RESET_PAUSE).limit(1))  # fmt: skip
    if recent is not None:
        return None
    return _account(row), await _issue_link(db, row.id, "reset")


def _live_link(token: str, at: datetime) -> tuple[ColumnElement[bool], ...]:
    return (StaffAccountToken.token_hash == hash_token(token), StaffAccountToken.used_at.is_(None),
            StaffAccountToken.expires_at > at)  # fmt: skip


async def link_account(db: AsyncSession, token: str) -> tuple[Account, str] | None:
    """(account, purpose) a link opens, without using it up; None when unknown, used, expired or disabled."""
    if not token.startswith("rvl_") or len(token) > 100:
        return None
    found = (await db.execute(select(StaffAccount, StaffAccountToken.purpose)
                              .join(StaffAccountToken, StaffAccountToken.account_id == StaffAccount.id)
                              .where(*_live_link(token, now()), StaffAccount.disabled_at.is_(None)))).first()  # fmt: skip
    return (_account(found[0]), found[1]) if found else None


async def set_password(db: AsyncSession, token: str, password: str) -> Account | None:
    """Use the link once to set the password (already checked as a domain.passwords.Password); the lockout is lifted
    and the account's other sessions end. None when the link does not work (any more). The caller commits."""
    if await link_account(db, token) is None:
        return None
    password_hash = await asyncio.to_thread(hasher.hash, password)
    used = await db.scalar(update(StaffAccountToken).where(*_live_link(token, now()))
                           .values(used_at=now()).returning(StaffAccountToken.account_id))  # fmt: skip
    if used is None:  # the same link, sent twice at once: one of them sets the password
        return None
    row = await db.get(StaffAccount, used, with_for_update=True)
    if row is None or row.disabled_at is not None:
        return None
    row.password_hash, row.failed, row.locked_until = password_hash, 0, None
    await _end_sessions(db, row.id)
    return _account(row)


async def disable(db: AsyncSession, email: str) -> Account | None:
    """Disable the account: it cannot sign in, its sessions end and its links stop working. None when there is no
    such account. The caller commits."""
    row = (await db.execute(BY_EMAIL, {"email": email.strip().lower()[:254]})).scalar_one_or_none()
    if row is None:
        return None
    row.disabled_at = row.disabled_at or now()
    await _end_sessions(db, row.id)
    await db.execute(update(StaffAccountToken).where(StaffAccountToken.account_id == row.id,
                                                     StaffAccountToken.used_at.is_(None)).values(used_at=now()))  # fmt: skip
    return _account(row)


# --- e-mail --------------------------------------------------------------------------------------------------------


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/staff/password?token={token}"


SUBJECTS = {"invite": "You are invited to the {shop} returns consoles", "reset": "Reset your {shop} console password"}
BODIES = {
    "invite": "Hello {name},\n\nYou have an account on the {shop} returns consoles ({roles}).\n"
    "Choose your password here (the link works once, for 7 days):\n\n{link}\n\n"
    "Then sign in at {login} with {email}.\n",
    "reset": "Hello {name},\n\nSomeone asked to reset the password of {email} on the {shop} returns consoles.\n"
    "Choose a new password here (the link works once, for 1 hour):\n\n{link}\n\n"
    "If it was not you, ignore this e-mail: your password stays as it is.\n",
}


def _link_message(settings: Settings, account: Account, purpose: str, link: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = account.email
    msg["Subject"] = SUBJECTS[purpose].format(shop=settings.shop_name)
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = make_msgid(domain="reverso.local")
    msg["X-Reverso-Kind"] = f"staff_{purpose}"
    msg.set_content(BODIES[purpose].format(name=account.name, shop=settings.shop_name, roles=", ".join(account.roles),
                                           link=link, email=account.email,
                                           login=f"{settings.public_url.rstrip('/')}/staff/login"))  # fmt: skip
    return msg


def _deliver(settings: Settings, msg: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, local_hostname=_ehlo_name(), timeout=30) as smtp:
        smtp.send_message(msg)


async def mail_link(settings: Settings, account: Account, purpose: str, token: str) -> None:
    """E-mail the link through the shop's SMTP relay (OSError when it cannot be reached)."""
    await asyncio.to_thread(_deliver, settings, _link_message(settings, account, purpose, link_url(settings, token)))
