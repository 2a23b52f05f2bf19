"""The `reverso` command: dev, api, worker, migrate, token, staff, demo, carrier scan."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import click

from domain.models import CarrierEventKind
from settings import Settings, get_settings

PORT_FLAGS = {
    "api_port": ("--api-port", "REVERSO_API_PORT"),
    "temporal_port": ("--temporal-port", "REVERSO_TEMPORAL_PORT"),
    "temporal_ui_port": ("--temporal-ui-port", "REVERSO_TEMPORAL_UI_PORT"),
    "stripe_port": ("--stripe-port", "REVERSO_STRIPE_PORT"),
    "smtp_port": ("--smtp-port", "REVERSO_SMTP_PORT"),
}


def _settings(**overrides: Any) -> Settings:
    given = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**given) if given else get_settings()


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="all local state (env REVERSO_STATE_DIR)",
)


@click.group()
def main() -> None:
    """Reverso: returns and exchanges on Temporal."""


@main.command()
@state_dir_option
@click.option("--api-port", type=int, default=None, help="API port (env REVERSO_API_PORT, default 8000)")
@click.option("--temporal-port", type=int, default=None, help="Temporal gRPC (env REVERSO_TEMPORAL_PORT, 7233)")
@click.option("--temporal-ui-port", type=int, default=None, help="Temporal UI (env REVERSO_TEMPORAL_UI_PORT, 8233)")
@click.option("--stripe-port", type=int, default=None, help="localstripe (env REVERSO_STRIPE_PORT, 8420)")
@click.option("--smtp-port", type=int, default=None, help="SMTP sink (env REVERSO_SMTP_PORT, 8025)")
def dev(**flags: Any) -> None:
    """Start everything on this machine: PostgreSQL, Temporal, localstripe, SMTP sink, worker, API."""
    import devstack

    sys.exit(devstack.run_dev(_settings(**flags)))


@main.command()
@click.option("--host", default=None, help="bind address (env REVERSO_API_HOST)")
@click.option("--port", type=int, default=None, help="port (env REVERSO_API_PORT)")
def api(host: str | None, port: int | None) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.main import create_app

    settings = get_settings()
    proxied = settings.forwarded_allow_ips is not None
    uvicorn.run(create_app(settings), host=host or settings.api_host, port=port or settings.api_port,
                log_level="info", proxy_headers=proxied,
                forwarded_allow_ips=settings.forwarded_allow_ips if proxied else None)  # fmt: skip


@main.command()
def worker() -> None:
    """Run the Temporal worker."""
    import worker as worker_module

    _run(worker_module.run())


@main.command()
@state_dir_option
def migrate(state_dir: Path | None) -> None:
    """Apply the database migrations."""
    from db.migrate import upgrade

    upgrade(_settings(state_dir=state_dir).resolved_database_url())
    click.echo("migrations applied")


@main.group()
def token() -> None:
    """Staff tokens (stored hashed)."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["admin", "warehouse", "finance", "integration"]))
@click.option("--name", required=True, help="who or what uses the token")
@state_dir_option
def token_create(role: str, name: str, state_dir: Path | None) -> None:
    """Print a new bearer token as the last line."""
    from api.auth import create_staff_token
    from db.engine import get_sessionmaker

    async def go() -> str:
        async with get_sessionmaker(_settings(state_dir=state_dir).resolved_database_url()).begin() as s:
            return await create_staff_token(s, role, name)

    secret = _run(go())
    click.echo(f"token for {name} ({role}); shown once, keep it safe:", err=True)
    click.echo(secret)


@token.command("revoke")
@click.option("--name", required=True)
@state_dir_option
def token_revoke(name: str, state_dir: Path | None) -> None:
    """Revoke every token with this name; the staff console sessions signed in with them end too."""
    from api.auth import revoke_staff_tokens
    from db.engine import get_sessionmaker

    async def go() -> int:
        async with get_sessionmaker(_settings(state_dir=state_dir).resolved_database_url()).begin() as s:
            return await revoke_staff_tokens(s, name)

    click.echo(f"revoked {_run(go())} token(s) named {name}, and signed out their console sessions")


@main.group()
def staff() -> None:
    """Staff accounts: people who sign in to the consoles with e-mail and password."""


async def _with_account_session(settings: Settings, work: Any) -> Any:
    """Run `work(session)` in one transaction on an engine of its own: the command's event loop is its own too."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(settings.resolved_database_url())
    try:
        async with async_sessionmaker(engine, expire_on_commit=False).begin() as s:
            return await work(s)
    finally:
        await engine.dispose()


@staff.command("invite")
@click.option("--email", required=True, help="the person's e-mail address: they sign in with it")
@click.option("--role", "roles", required=True, multiple=True,
              help="admin, warehouse or finance; repeat it or separate with commas for several")  # fmt: skip
@click.option("--name", default=None, help="shown in the consoles and timelines (default: the e-mail's local part)")
@state_dir_option
def staff_invite(email: str, roles: tuple[str, ...], name: str | None, state_dir: Path | None) -> None:
    """Create the account (an existing one gets these roles and is enabled again) and e-mail it a link to set its
    password; the link is printed as the last line too."""
    from api import staff_accounts

    settings = _settings(state_dir=state_dir)
    wanted = [r for given in roles for r in given.split(",")]

    async def go() -> tuple[staff_accounts.Account, str, str | None]:
        account, token = await _with_account_session(settings, lambda s: staff_accounts.invite(s, email, wanted, name))
        try:
            await staff_accounts.mail_link(settings, account, "invite", token)
        except OSError as e:
            return account, token, str(e) or type(e).__name__
        return account, token, None

    try:
        account, token, unsent = _run(go())
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"invited {account.name} <{account.email}> ({', '.join(account.roles)}); "
               "the link works once, for 7 days:", err=True)  # fmt: skip
    if unsent:
        click.echo(f"could not e-mail the link ({unsent}): give it to them yourself", err=True)
    click.echo(staff_accounts.link_url(settings, token))


@staff.command("grant")
@click.option("--email", required=True)
@click.option("--role", "roles", required=True, multiple=True,
              help="admin, warehouse or finance; repeat it or separate with commas for several")  # fmt: skip
@state_dir_option
def staff_grant(email: str, roles: tuple[str, ...], state_dir: Path | None) -> None:
    """Give an existing account more roles (it keeps those it has); no new link, the password stays."""
    from api import staff_accounts

    wanted = [r for given in roles for r in given.split(",")]
    try:
        account = _run(_with_account_session(_settings(state_dir=state_dir),
                                             lambda s: staff_accounts.grant(s, email, wanted)))  # fmt: skip
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if account is None:
        click.echo(f"no staff account with e-mail {email}", err=True)
        sys.exit(1)
    click.echo(f"{account.email} now has the roles {', '.join(account.roles)}")


@staff.command("disable")
@click.option("--email", required=True)
@state_dir_option
def staff_disable(email: str, state_dir: Path | None) -> None:
    """Disable the account: it can no longer sign in, and its console sessions and links end now."""
    from api import staff_accounts

    account = _run(_with_account_session(_settings(state_dir=state_dir), lambda s: staff_accounts.disable(s, email)))
    if account is None:
        click.echo(f"no staff account with e-mail {email}", err=True)
        sys.exit(1)
    click.echo(f"disabled {account.email}; its console sessions ended")


@main.command()
@state_dir_option
def demo(state_dir: Path | None) -> None:
    """Load demo inventory and orders, with real PaymentIntents in the payment peer."""
    from db.demo import load_demo

    for number, email, what in _run(load_demo(_settings(state_dir=state_dir))):
        click.echo(f"{number:<10} {email:<28} {what}")


@main.group()
def carrier() -> None:
    """The built-in local carrier."""


@carrier.command("scan")
@click.argument("tracking_number")
@click.option("--event", type=click.Choice(list(get_args(CarrierEventKind))), default="in_transit")
@state_dir_option
def carrier_scan(tracking_number: str, event: str, state_dir: Path | None) -> None:
    """Send a signed scan to the API, as the carrier would."""
    import httpx
    from standardwebhooks.webhooks import Webhook

    settings = _settings(state_dir=state_dir)
    body = json.dumps({"tracking_number": tracking_number, "event": event,
                       "occurred_at": datetime.now(UTC).isoformat()})  # fmt: skip
    msg_id = "msg_" + uuid.uuid4().hex
    signature = Webhook(settings.webhook_secret()).sign(msg_id, datetime.now(UTC), body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(time.time())), "webhook-signature": signature,
               "content-type": "application/json"}  # fmt: skip
    r = httpx.post(f"{settings.public_url}/api/v1/webhooks/carriers/local", content=body, headers=headers, timeout=30)
    click.echo(f"{r.status_code} {r.text}")
    sys.exit(0 if r.status_code == 202 else 1)


if __name__ == "__main__":
    main()
