"""Property-based: generated requests to every operation of the live /openapi.json, as every kind of caller.

No answer is a 5xx, and every answer (status code, content type, body) is one the schema declares.
Runs against a real stack (devstack.Stack in this process); examples are capped to keep it to a minute
or two. A failure prints the request as a curl command to reproduce it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.faults.driver import Journal, Peer
from tests.faults.test_nothing_lost import staff_tokens
from tests.support import services

pytestmark = pytest.mark.timeout(600)
ROLES = ("none", "shopper", "admin", "warehouse", "finance", "integration")
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]  # fmt: skip


@pytest.fixture(autouse=True)
def _orders_on_workflow_time() -> None:
    """Overrides tests/api/conftest.py's: this module runs its own stack, not the time-skipping server."""


@pytest.fixture(scope="module")
def running() -> Iterator[services.SupervisedStack]:
    with services.scratch_dir("reverso-schema-") as tmp, services.supervised_stack(tmp) as stack:
        yield stack


@pytest.fixture(scope="module")
def callers(running: services.SupervisedStack) -> dict[str, dict[str, str]]:
    """A bearer header per kind of caller; the shopper's order exists and is returnable."""
    headers = {role: {"Authorization": f"Bearer {token}"} for role, token in staff_tokens(running).items()}
    peer = Peer(running.api_url, Journal(), deadline=60)
    now, number = datetime.now(UTC), "S" + uuid.uuid4().hex[:9].upper()
    r = peer.call("POST", "/api/v1/orders", headers=headers["integration"], json={
        "number": number, "email": "fuzz@example.com", "currency": "EUR",
        "placed_at": (now - timedelta(days=3)).isoformat(), "delivered_at": (now - timedelta(days=1)).isoformat(),
        "payment": {"provider": "stripe", "reference": "pi_fuzz"},
        "shipping_address": {"name": "Fuzz", "line1": "Rua 1", "city": "Porto", "country": "PT"},
        "lines": [{"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": 1, "unit_price": 2500, "final_sale": False}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    for who in ("shopper", "signing_out"):  # signing out ends a session: the other operations keep theirs
        r = peer.call("POST", "/api/v1/portal/session", json={"order_number": number, "email": "fuzz@example.com"})
        headers[who] = {"Authorization": f"Bearer {r.json()['token']}"}
    headers["none"] = {}
    return headers


def test_answers_match_the_schema_and_never_5xx(running: services.SupervisedStack,
                                                callers: dict[str, dict[str, str]]) -> None:  # fmt: skip
    schema = schemathesis.openapi.from_url(f"{running.api_url}/openapi.json")
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def each(case: Any) -> None:
            signs_out = (case.operation.method.upper(), case.operation.path) == ("DELETE", "/api/v1/portal/session")
            for role in ROLES:  # the same generated request from every kind of caller
                who = "signing_out" if signs_out and role == "shopper" else role
                case.call_and_validate(headers=callers[who], checks=CHECKS, timeout=30)

        tried += 1
        try:
            each()
        except (Exception, BaseExceptionGroup) as e:  # every operation is tried; all failures reported together
            failures.append(f"--- {operation.label}\n{e}")
    assert tried >= 20, f"only {tried} operations in /openapi.json"
    assert not failures, f"{len(failures)} of {tried} operations answered outside their schema:\n" + "\n".join(failures)
