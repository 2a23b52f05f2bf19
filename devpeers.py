"""Local stand-ins for outside systems, used by `reverso dev` and the tests.

python -m devpeers stripe --port 8420 --state-dir .reverso   # localstripe answering as Stripe (devpeers_stripe),
                                                             # state in <dir>/stripe.pickle
python -m devpeers smtp --port 8025 --mail-dir .reverso/mail  # SMTP sink, one .eml per message
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import signal
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger("devpeers")


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a hidden temp file beside `path`, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- Stripe ---------------------------------------------------------------------------------------


# localstripe pickles its whole store at every object it creates: with a few thousand objects (a day of `reverso dev`,
# a benchmark's orders) each refund cost tens of ms of CPU, growing with the store. Writes are gathered instead:
# the store is written this long after the first change, and at shutdown.
STRIPE_WRITE_DELAY = 0.5


def run_stripe(port: int, state_dir: Path) -> None:
    """Serve localstripe on 127.0.0.1:port with its store pickled to <state_dir>/stripe.pickle, behind the
    middleware that makes it answer as Stripe does where Reverso's money depends on it (devpeers_stripe)."""
    from aiohttp import web
    from localstripe import resources

    from devpeers_stripe import StripeLike

    path = state_dir / "stripe.pickle"
    pending: list[asyncio.TimerHandle] = []

    def try_load_from_disk(self: resources.Store) -> None:
        if path.exists():
            with path.open("rb") as f:
                old = pickle.load(f)
            self.clear()
            self.update(old)

    def write_now() -> None:
        pending.clear()
        write_atomically(path, pickle.dumps(dict(resources.store), protocol=pickle.HIGHEST_PROTOCOL))

    def dump_to_disk(self: resources.Store) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving yet
            write_now()
            return
        if not pending:
            pending.append(loop.call_later(STRIPE_WRITE_DELAY, write_now))

    async def write_at_shutdown(app: web.Application) -> None:
        for handle in pending:
            handle.cancel()
        write_now()

    # localstripe hard-codes /tmp/localstripe.pickle; point it at our state dir instead.
    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk
    from localstripe.server import app  # noqa: E402 - import after patching, it builds the app

    state_dir.mkdir(parents=True, exist_ok=True)
    resources.store.try_load_from_disk()
    StripeLike(resources).install(app)
    app.on_cleanup.append(write_at_shutdown)
    log.info("localstripe on http://127.0.0.1:%d, %d objects from %s", port, len(resources.store), path)
    web.run_app(app, host="127.0.0.1", port=port, print=None)  # access log: one line per request


# --- SMTP -----------------------------------------------------------------------------------------


class MailDirHandler:
    """aiosmtpd handler: every message is stored byte for byte as <time>-<uuid8>.eml."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook name
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.mail_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        write_atomically(path, envelope.original_content)
        # The addresses stay out of the log (the .eml file has them), as everywhere else in Reverso.
        log.info("mail for %d recipient(s) -> %s", len(envelope.rcpt_tos), path.name)
        return "250 Message accepted for delivery"


def start_smtp_sink(port: int, mail_dir: Path | str) -> Controller:
    """Start an SMTP sink on 127.0.0.1:port in a background thread; call .stop() on the result."""
    mail_dir = Path(mail_dir)
    mail_dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(MailDirHandler(mail_dir), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def run_smtp(port: int, mail_dir: Path) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    controller = start_smtp_sink(port, mail_dir)
    log.info("SMTP sink on 127.0.0.1:%d, mail in %s", port, mail_dir)
    while not stop.wait(0.5):
        pass
    controller.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devpeers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="peer", required=True)
    stripe = sub.add_parser("stripe", help="localstripe on loopback, answering as Stripe")
    stripe.add_argument("--port", type=int, required=True)
    stripe.add_argument("--state-dir", type=Path, required=True)
    smtp = sub.add_parser("smtp", help="SMTP sink writing .eml files")
    smtp.add_argument("--port", type=int, required=True)
    smtp.add_argument("--mail-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    if args.peer == "stripe":
        run_stripe(args.port, args.state_dir)
    else:
        run_smtp(args.port, args.mail_dir)


if __name__ == "__main__":
    main()
