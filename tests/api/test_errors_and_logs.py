"""What goes wrong answers right and logs nothing personal.

A 500 carries the security headers like every other answer; a failing activity's log lines (temporalio logs
the exception at every retry) hold no e-mail address, name or statement parameter; and a change that races the
return's end answers 409 naming the status it ended in, not 404.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, null, text
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.notifications import Notifications
from api import log_privacy
from api.main import create_app
from api.temporal_calls import API_RETRIES
from db.engine import get_engine, get_sessionmaker
from db.models import OrderRow
from domain.messages import EmailInput
from settings import Settings
from tests.api.api_helpers import line
from tests.support import services
from tests.support.link import Link

pytestmark = pytest.mark.asyncio(loop_scope="session")

NAME = "Ana Sousa"


# --- 500s ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/boom", "/portal/boom"])
async def test_a_500_carries_the_security_headers(settings, path):
    app = create_app(settings)

    @app.get(path)
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.get(path)
    assert r.status_code == 500
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, r.headers
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.json() == {"detail": "internal server error"}  # the shape of every other error body


async def test_an_answer_from_outside_the_apps_middleware_carries_them_too(settings):
    app = create_app(settings)
    app.max_body_size = 100  # FastAPI's body limit answers 413 from beside ServerErrorMiddleware
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.post("/api/v1/portal/session", json={"order_number": "A" * 200, "email": "a@example.com"})
    assert r.status_code == 413
    assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), r.headers
    assert r.headers["X-Frame-Options"] == "DENY"


# --- logs of failing activities --------------------------------------------------------------------


@activity.defn(name="test_store_order")
async def store_order(inp: dict[str, str]) -> None:
    """Writes an order through the engine activities use, and the database refuses it: a missing column (its DETAIL
    lists the row) or broken JSON (its CONTEXT quotes it)."""
    async with get_engine(inp["url"], pre_ping=False).begin() as conn:
        if inp["kind"] == "not null":
            await conn.execute(insert(OrderRow).values(number=inp["number"], email=inp["email"], data=null()))
        else:
            await conn.execute(text("insert into orders (number, email, data) values (:number, :email, :data)"),
                               {"number": inp["number"], "email": inp["email"],
                                "data": f'{{"shipping_address": {{"name": "{NAME}"'})  # fmt: skip


@workflow.defn(sandboxed=False)
class FailingActivity:
    """Runs one activity until its attempts are used up (two: 'once per retry' is seen twice)."""

    @workflow.run
    async def run(self, name: str, arg: object) -> str:
        try:
            await workflow.execute_activity(name, arg, start_to_close_timeout=timedelta(seconds=30),
                                            retry_policy=RetryPolicy(maximum_attempts=2,
                                                                     initial_interval=timedelta(milliseconds=10)))  # fmt: skip
        except ActivityError as e:
            return type(e.cause).__name__
        return "passed"


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    """An SMTP server that refuses every recipient, as a real relay does an unknown mailbox."""

    class Refuse:
        async def handle_RCPT(self, server, session, envelope, address, options) -> str:  # noqa: N802 - aiosmtpd hook
            return "550 5.1.1 mailbox unavailable"

    controller = Controller(Refuse(), hostname="127.0.0.1", port=services.free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line above DEBUG as a handler formats it, exceptions included; not the SMTP server's own
    (aiosmtpd's "mail.log" stands for the relay, a process of its own in production)."""
    fmt = logging.Formatter("%(levelname)s %(name)s %(message)s")
    ours = [r for r in caplog.records if r.levelno > logging.DEBUG and not r.name.startswith("mail.log")]
    return "\n".join(fmt.format(r) for r in ours)


async def run_failing(ts_env: WorkflowEnvironment, settings: Settings, name: str, arg: object) -> str:
    queue = "failing-" + uuid.uuid4().hex[:8]
    activities: list[Callable[..., Any]] = [store_order, Notifications(settings).send]
    # Without skipping: waiting for a result lets the time-skipping server jump to the next timer of any return in
    # the session (expiries weeks away), and later tests that date their orders by the wall clock find them expired.
    with ts_env.auto_time_skipping_disabled():
        async with Worker(ts_env.client, task_queue=queue, workflows=[FailingActivity], activities=activities,
                          workflow_runner=UnsandboxedWorkflowRunner()):  # fmt: skip
            return await ts_env.client.execute_workflow(
                FailingActivity.run, args=[name, arg], id=queue, task_queue=queue
            )


@pytest.mark.parametrize(("kind", "says"), [("not null", "violates not-null constraint"),
                                            ("bad json", "invalid input syntax for type json")])  # fmt: skip
async def test_a_statement_the_database_refuses_logs_no_value(settings, ts_env, caplog, kind, says):
    log_privacy.install()  # as worker.run does
    caplog.set_level(logging.INFO)
    number, email = "E" + uuid.uuid4().hex[:8].upper(), f"ana.{uuid.uuid4().hex[:6]}@example.com"
    arg = {"url": settings.resolved_database_url(), "kind": kind, "number": number, "email": email}
    assert await run_failing(ts_env, settings, "test_store_order", arg) == "ApplicationError"
    lines = logged(caplog)
    failures = [ln for ln in lines.split("\nWARNING") if "Completing activity as failed" in ln]
    assert len(failures) == 2, lines  # once per attempt, with the exception's text
    assert all(says in f for f in failures), failures  # the cause is still named
    for value in (email, email.split("@")[0], NAME, number):
        assert value not in lines, (value, lines)


async def test_a_refused_recipient_logs_no_address(settings, ts_env, caplog, refusing_smtp):
    log_privacy.install()  # as worker.run does
    caplog.set_level(logging.INFO)
    email = f"ana.{uuid.uuid4().hex[:6]}@example.com"
    mail = EmailInput(return_id="R" + uuid.uuid4().hex[:8], kind="received", to=email, context={"name": NAME})
    refused = settings.model_copy(update={"smtp_port": refusing_smtp})
    assert await run_failing(ts_env, refused, "send_email", mail) == "ApplicationError"
    lines = logged(caplog)
    failures = [ln for ln in lines.split("\nWARNING") if "Completing activity as failed" in ln]
    assert len(failures) == 2 and all("SMTPRecipientsRefused" in f for f in failures), lines
    assert email not in lines and email.split("@")[0] not in lines, lines


# --- a change racing the return's end --------------------------------------------------------------


async def reopen_in_read_model(settings: Settings, rid: str, status: str) -> None:
    """The read model as a route saw it an instant before the workflow finished."""
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await s.execute(text("update returns set status = :status where id = :id"), {"status": status, "id": rid})


async def test_changes_racing_the_end_of_a_return_answer_409_naming_its_status(
    client, shop, returns, tokens, ts_env, settings
):
    order = await shop.order()
    ret, shopper = await returns.create(order, line())
    cancelled = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=shopper)
    assert cancelled.status_code == 200, cancelled.text
    handle: WorkflowHandle = ts_env.client.get_workflow_handle(ret["id"])
    with ts_env.auto_time_skipping_disabled():  # as in run_failing: no jump to other returns' timers
        assert await handle.result() == "cancelled"
    await reopen_in_read_model(settings, ret["id"], "awaiting_shipment")
    admin, warehouse, finance = [await tokens.staff(r) for r in ("admin", "warehouse", "finance")]
    inspection = {"lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True,
                             "note": ""}]}  # fmt: skip
    for path, headers, body in [
        ("cancel", shopper, None),
        ("cancel", admin, None),
        ("approve", admin, None),
        ("reject", admin, {"reason": "too late"}),
        ("inspection", warehouse, inspection),
        ("refund-review", finance, {"approve": True}),
        ("label", shopper, None),
        ("receive", warehouse, None),
    ]:
        r = await client.post(f"/api/v1/returns/{ret['id']}/{path}", headers=headers, json=body)
        assert r.status_code == 409, (path, r.status_code, r.text)
        assert r.json()["detail"] == "status: the return is cancelled and can no longer change", (path, r.text)


async def test_a_cancel_the_workflow_never_made_is_made_when_the_shopper_retries_it(
    client, shop, returns, ts_env, settings
):
    # The read model says "cancelled" (written by a projection whose workflow task was lost when the engine
    # restarted) while the workflow still waits for the parcel: the retried cancel must reach it, not be refused.
    order = await shop.order()
    ret, shopper = await returns.create(order, line())
    await reopen_in_read_model(settings, ret["id"], "cancelled")
    again = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=shopper)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "cancelled"
    with ts_env.auto_time_skipping_disabled():
        assert await ts_env.client.get_workflow_handle(ret["id"]).result() == "cancelled"
    # And once the workflow has ended, the read model's word stands: 409 naming the status.
    late = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=shopper)
    assert late.status_code == 409 and "cancelled" in late.json()["detail"], late.text


async def test_a_finished_looking_return_is_not_refused_while_the_engine_cannot_be_asked(
    client, shop, returns, settings, ts_env
):
    # The engine restarting: the row says "cancelled", but a lost workflow task may have written it, so the API
    # cannot tell whether the cancel happened. It answers 503 (try again), and the retry reaches the workflow.
    order = await shop.order()
    ret, shopper = await returns.create(order, line())
    await reopen_in_read_model(settings, ret["id"], "cancelled")
    link = await Link(ts_env.client.service_client.config.target_host).start()
    app = create_app(settings)
    app.state.temporal = await Client.connect(link.address, retry_config=API_RETRIES)
    await link.cut()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as down:
        during = await down.post(f"/api/v1/returns/{ret['id']}/cancel", headers=shopper)
    assert during.status_code == 503, during.text
    assert during.headers["Retry-After"]
    after = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=shopper)
    assert after.status_code == 200 and after.json()["status"] == "cancelled", after.text
