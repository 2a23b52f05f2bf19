"""The error answers each router may give, declared for OpenAPI so clients (and schemathesis) know them.

Every 4xx/5xx body is {"detail": ..., "code": ...}: `detail` a sentence naming the field, a list of {field, reason,
type} (validation, see api/main.py), or for an ineligible return {message, lines}; `code` what a program reads
(wrong_status, invalid_field, already_submitted, amount_too_large, ineligible_lines, rate_limited, not_found, ...).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    reason: str
    type: str


class ErrorBody(BaseModel):
    detail: str | list[FieldError] | dict[str, Any]
    code: str = ""


WHY = {
    401: "no valid bearer token (or webhook signature)",
    403: "this role may not do this",
    404: "no such resource for this caller (another shopper's return is not found either)",
    409: "the return's status (or the credit's balance) does not allow this now",
    413: "the body is larger than allowed",
    422: "a field is missing or invalid; `detail` names it",
    429: "too many failed attempts; see Retry-After",
    503: "the workflow engine or the database is not reachable; see Retry-After",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """A `responses=` mapping for these status codes, each with the shared error body."""
    return {code: {"model": ErrorBody, "description": WHY[code]} for code in codes}
