"""Access log lines without what callers typed: query values (staff search returns by a shopper's e-mail)
and store-credit codes (they spend like cash) are logged as placeholders; the path and status stay."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

_CREDIT_CODE = re.compile(r"^(/api/v1/store-credit/)[^/?]+")


def redact(target: str) -> str:
    """'/api/v1/returns?q=ana%40example.com&limit=5' -> '/api/v1/returns?q=...&limit=...'."""
    path, _, query = target.partition("?")
    path = _CREDIT_CODE.sub(r"\1...", path)
    if not query:
        return path
    return path + "?" + "&".join(f"{name}=..." for name, _ in parse_qsl(query, keep_blank_values=True))


class RedactTargets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access logs (client, method, target, http version, status)
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def install() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTargets) for f in access.filters):
        access.addFilter(RedactTargets())
