"""The one error a use case raises: what the JSON API answers with, and what a page shows beside its form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response


class ServiceError(Exception):
    """A refusal: the HTTP `status` it is in the JSON API, its `detail` (a sentence naming the field, or for an
    ineligible return {message, lines}) and `headers` such as Retry-After."""

    def __init__(self, status: int, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})

    @property
    def text(self) -> str:
        return str(self.detail)

    def http(self) -> HTTPException:
        return HTTPException(self.status, self.detail, headers=self.headers or None)


async def as_http(request: Request, exc: Exception) -> Response:
    """The JSON API's answer to a ServiceError no caller handled: the HTTPException it stands for."""
    assert isinstance(exc, ServiceError)
    return await http_exception_handler(request, exc.http())
