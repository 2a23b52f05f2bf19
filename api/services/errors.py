"""The one error a use case raises: what the JSON API answers with, and what a page shows beside its form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

# What a refusal is, as a code beside its `detail`, when the refusal names none: by its HTTP status.
CODE_BY_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "not_allowed",
                  409: "wrong_status", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_field",
                  429: "rate_limited", 503: "unavailable"}  # fmt: skip


def code_for(status: int) -> str:
    return CODE_BY_STATUS.get(status, "error")


class ServiceError(Exception):
    """A refusal: the HTTP `status` it is in the JSON API, its `detail` (a sentence naming the field, or for an
    ineligible return {message, lines}), its `code` (what a program reads: wrong_status, invalid_field, ...; by
    default the status's, CODE_BY_STATUS) and `headers` such as Retry-After."""

    def __init__(
        self, status: int, detail: Any, headers: Mapping[str, str] | None = None, code: str | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.code = code or code_for(status)

    @property
    def text(self) -> str:
        return str(self.detail)

    def http(self) -> HTTPException:
        return HTTPException(self.status, self.detail, headers=self.headers or None)


async def as_http(request: Request, exc: Exception) -> Response:
    """The JSON API's answer to a ServiceError no caller handled: {detail, code}, with its headers."""
    assert isinstance(exc, ServiceError)
    if not is_body_allowed_for_status_code(exc.status):
        return Response(status_code=exc.status, headers=exc.headers or None)
    return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status, headers=exc.headers or None)


async def http_with_code(request: Request, exc: Exception) -> Response:
    """Any other HTTPException (a route's own 404, 401 without a token...): its detail and the status's code."""
    assert isinstance(exc, StarletteHTTPException)
    if not is_body_allowed_for_status_code(exc.status_code):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail, "code": code_for(exc.status_code)}, status_code=exc.status_code,
                        headers=exc.headers)  # fmt: skip
