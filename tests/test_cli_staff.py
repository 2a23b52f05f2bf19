"""`reverso staff invite` prints and e-mails a one-time link; `reverso staff disable` ends the account's sign-ins."""

from __future__ import annotations

import email
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text

import cli
from api.auth import hash_token
from settings import Settings
from tests.support.services import free_port

PUBLIC = "https://returns.shop.example"


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The command's settings come from the environment, as an operator's would; the state dir option keeps it off
    any `reverso dev` state."""
    monkeypatch.setenv("REVERSO_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("REVERSO_SMTP_PORT", str(settings.smtp_port))
    monkeypatch.setenv("REVERSO_PUBLIC_URL", PUBLIC)
    return ["--state-dir", str(tmp_path)]


@pytest.fixture
def pg(settings: Settings) -> Iterator[Engine]:
    engine = create_engine(settings.resolved_database_url())
    yield engine
    engine.dispose()


def reverso(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def mail_to(mail_dir: Path, address: str) -> list[email.message.Message]:
    for _ in range(200):
        found = [email.message_from_bytes(p.read_bytes()) for p in sorted(mail_dir.glob("*.eml"))]
        mine = [m for m in found if m["To"] == address and m["X-Reverso-Kind"] == "staff_invite"]
        if mine:
            return mine
        time.sleep(0.05)
    raise AssertionError(f"no invitation reached {address}")


def account(pg: Engine, address: str) -> dict:
    with pg.connect() as conn:
        row = conn.execute(text("SELECT name, roles, disabled_at FROM staff_accounts WHERE email = :e"), {"e": address})
        return dict(row.one()._mapping)


def live_link(pg: Engine, token: str) -> bool:
    with pg.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM staff_account_tokens WHERE token_hash = :h AND used_at IS "
                                     "NULL AND expires_at > :now"), {"h": hash_token(token), "now": datetime.now(UTC)}))  # fmt: skip


def test_invite_prints_and_emails_a_link_to_set_the_password(env, pg, mail_dir):
    address = f"rui.{uuid.uuid4().hex[:8]}@shop.example"
    done = reverso("staff", "invite", "--email", address.upper(), "--role", "warehouse,finance", "--role", "finance",
                   "--name", "Rui Costa", *env)  # fmt: skip
    assert done.exit_code == 0, done.output
    link = done.stdout.strip().splitlines()[-1]
    assert link.startswith(f"{PUBLIC}/staff/password?token=rvl_")
    assert "Rui Costa" in done.stderr and "7 days" in done.stderr
    body = mail_to(mail_dir, address)[-1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert link in body and "Rui Costa" in body
    assert account(pg, address) == {"name": "Rui Costa", "roles": ["warehouse", "finance"], "disabled_at": None}
    token = link.rsplit("=", 1)[1]
    assert live_link(pg, token)

    again = reverso("staff", "invite", "--email", address, "--role", "admin", *env)
    assert again.exit_code == 0, again.output
    assert not live_link(pg, token) and live_link(pg, again.stdout.strip().rsplit("=", 1)[1])  # only the newest works
    assert account(pg, address)["roles"] == ["admin"] and account(pg, address)["name"] == "Rui Costa"


def test_invite_refuses_an_unknown_role_or_a_bad_address(env, pg):
    address = f"eva.{uuid.uuid4().hex[:8]}@shop.example"
    bad_role = reverso("staff", "invite", "--email", address, "--role", "integration", *env)
    assert bad_role.exit_code == 2 and "admin, warehouse, finance" in bad_role.output
    bad_address = reverso("staff", "invite", "--email", "not an address", "--role", "admin", *env)
    assert bad_address.exit_code == 2
    with pg.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM staff_accounts WHERE email = :e"), {"e": address}) == 0


def test_invite_without_a_mail_relay_still_prints_the_link(env, pg, monkeypatch):
    monkeypatch.setenv("REVERSO_SMTP_PORT", str(free_port()))  # nothing listens there
    address = f"ines.{uuid.uuid4().hex[:8]}@shop.example"
    done = reverso("staff", "invite", "--email", address, "--role", "finance", *env)
    assert done.exit_code == 0, done.output
    assert "could not e-mail the link" in done.stderr
    assert live_link(pg, done.stdout.strip().rsplit("=", 1)[1])


def test_disable_ends_the_sessions_and_links_and_an_unknown_address_fails(env, pg):
    address = f"joao.{uuid.uuid4().hex[:8]}@shop.example"
    link = reverso("staff", "invite", "--email", address, "--role", "admin", *env).stdout.strip().rsplit("=", 1)[1]
    with pg.begin() as conn:  # signed in somewhere
        account_id = conn.scalar(text("SELECT id FROM staff_accounts WHERE email = :e"), {"e": address})
        conn.execute(text("INSERT INTO staff_sessions (id_hash, account_id, expires_at) VALUES (:h, :a, :x)"),
                     {"h": hash_token("rvc_" + uuid.uuid4().hex), "a": account_id,
                      "x": datetime.now(UTC) + timedelta(hours=1)})  # fmt: skip
    done = reverso("staff", "disable", "--email", address, *env)
    assert done.exit_code == 0, done.output
    assert account(pg, address)["disabled_at"] is not None and not live_link(pg, link)
    with pg.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM staff_sessions WHERE account_id = :a"), {"a": account_id}) == 0
    unknown = reverso("staff", "disable", "--email", f"nobody.{uuid.uuid4().hex[:8]}@shop.example", *env)
    assert unknown.exit_code == 1 and "no staff account" in unknown.stderr


def test_grant_adds_roles_to_an_account_and_keeps_its_password_and_links(env, pg):
    address = f"rita.{uuid.uuid4().hex[:8]}@shop.example"
    link = reverso("staff", "invite", "--email", address, "--role", "warehouse", *env).stdout.strip().rsplit("=", 1)[1]
    done = reverso("staff", "grant", "--email", address.upper(), "--role", "finance", "--role", "warehouse,admin", *env)
    assert done.exit_code == 0, done.output
    assert "warehouse, finance, admin" in done.stdout
    assert account(pg, address)["roles"] == ["warehouse", "finance", "admin"]
    assert live_link(pg, link)  # no new invitation: the one already sent still works
    bad_role = reverso("staff", "grant", "--email", address, "--role", "integration", *env)
    assert bad_role.exit_code == 2 and account(pg, address)["roles"] == ["warehouse", "finance", "admin"]
    unknown = reverso("staff", "grant", "--email", f"nobody.{uuid.uuid4().hex[:8]}@shop.example", "--role", "admin",
                      *env)  # fmt: skip
    assert unknown.exit_code == 1 and "no staff account" in unknown.stderr
