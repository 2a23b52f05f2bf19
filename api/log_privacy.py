"""Log lines without what people typed or were given.

Access log lines: query values (staff search returns by a shopper's e-mail) and store-credit codes (they spend
like cash) are logged as placeholders; the path and status stay.

Error lines: a logged exception's text is whatever the failing library put in it, e.g. smtplib's refusal names
the recipient, a pydantic error quotes the input, and temporalio logs it at WARNING for every retry of an
activity. Before any handler sees such a record, e-mail addresses, session and staff tokens, store-credit codes,
SQL parameters and quoted inputs in it are replaced (db.engine keeps PostgreSQL's own messages free of values).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

_CREDIT_CODE = re.compile(r"^(/api/v1/store-credit/)[^/?]+")
_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[\w.!#$%&*+/=?^`|~-]+@[\w-]+(?:\.[\w-]+)+"), "<e-mail>"),
    (re.compile(r"\b(rv[psc])_[\w-]+"), r"\1_..."),  # portal and staff tokens, staff console sessions
    (re.compile(r"\bSC(?:-[A-Z2-9]{4}){3}\b"), "SC-..."),  # store-credit codes (activities/store_credit.py)
    # SQLAlchemy's own line, should an engine not hide them; to the line's end, as a value may hold "]"
    (re.compile(r"^\[parameters: .*$", re.MULTILINE), "[parameters hidden]"),
    (re.compile(r"input_value=.*?, input_type="), "input_value=..., input_type="),  # pydantic
]


def redact(target: str) -> str:
    """'/api/v1/returns?q=ana%40example.com&limit=5' -> '/api/v1/returns?q=...&limit=...'."""
    path, _, query = target.partition("?")
    path = _CREDIT_CODE.sub(r"\1...", path)
    if not query:
        return path
    return path + "?" + "&".join(f"{name}=..." for name, _ in parse_qsl(query, keep_blank_values=True))


def scrub(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactTargets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access logs (client, method, target, http version, status)
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def scrubbing(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A record factory around `make` that scrubs every record above DEBUG, and any carrying an exception.

    A factory rather than a filter: filters sit on one logger or one handler, and the lines that matter come
    from temporalio's, SQLAlchemy's and uvicorn's loggers to handlers set up by uvicorn, the worker or pytest.
    The access log (every request) is left to RedactTargets, which needs its arguments unformatted."""

    def make_scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if record.exc_info or (record.levelno > logging.DEBUG and record.name != "uvicorn.access"):
            try:
                message = record.getMessage()
            except Exception:  # arguments that do not fit the message: the handler reports that, as it would
                return record
            record.msg, record.args = scrub(message), None
            if record.exc_info and record.exc_info[0] is not None:
                # Formatters print exc_text when set, instead of formatting exc_info themselves.
                record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    make_scrubbed.scrubs = True  # type: ignore[attr-defined]  # a marker on the function, read by getattr
    return make_scrubbed


def install() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTargets) for f in access.filters):
        access.addFilter(RedactTargets())
    current = logging.getLogRecordFactory()
    if not getattr(current, "scrubs", False):
        logging.setLogRecordFactory(scrubbing(current))
