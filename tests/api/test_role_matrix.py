"""Every operation of the API x every kind of caller gets exactly the answer it should.

The list of operations comes from the app itself (its OpenAPI): a new route that is not in MATRIX fails
here until someone decides who may call it. Requests that get past authorization are made harmless
(an invalid body, or an action the return's status refuses) so the matrix changes nothing it reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from activities.store_credit import new_code
from api.main import create_app
from db.engine import get_sessionmaker
from db.models import StoreCredit
from tests.api.api_helpers import inbound_tracking, line, order_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROLES = ("none", "other_shopper", "own_shopper", "admin", "warehouse", "finance", "integration")
STAFF = ("admin", "warehouse", "finance", "integration")


def expect(default: int, **by_role: int) -> dict[str, int]:
    return {role: by_role.get(role, default) for role in ROLES}


def staff_only(*allowed: str, ok: int, denied: int = 403) -> dict[str, int]:
    """Staff endpoints: no token or a shopper's is 401, a staff role not allowed is 403; admin may do all."""
    return expect(401, **{r: ok if r in (*allowed, "admin") else denied for r in STAFF})


@dataclass
class Op:
    expected: dict[str, int]
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)


# {rid}: a return of the own shopper's order, in transit (so cancel, approve and reject are refused by status).
# {code}: a store credit. A shopper of another order must not learn the return exists: 404, as for no return.
MATRIX: dict[tuple[str, str], Op] = {
    ("GET", "/healthz"): Op(expect(200)),
    ("PUT", "/api/v1/inventory/{sku}"): Op(staff_only("integration", ok=200),
                                           json={"title": "Tee", "unit_price": 2500, "currency": "EUR",
                                                 "available": 10}),
    ("POST", "/api/v1/orders"): Op(staff_only("integration", ok=422), json={"number": "X"}),
    ("GET", "/api/v1/policy"): Op(staff_only(ok=200)),
    ("PUT", "/api/v1/policy"): Op(staff_only(ok=422), json={"window_days": "soon"}),
    ("GET", "/api/v1/policy/versions/{version}"): Op(staff_only(ok=422)),  # version 0 is not a version
    ("POST", "/api/v1/portal/session"): Op(expect(200)),  # anyone with the order number and e-mail
    ("DELETE", "/api/v1/portal/session"): Op(expect(401, own_shopper=204, other_shopper=204)),  # signs itself out
    ("GET", "/api/v1/portal/order"): Op(expect(401, own_shopper=200, other_shopper=200)),  # each their own
    ("POST", "/api/v1/portal/estimate"): Op(expect(401, own_shopper=422, other_shopper=422), json={}),
    ("POST", "/api/v1/portal/photos"): Op(expect(401, own_shopper=422, other_shopper=422), json={}),  # not multipart
    ("POST", "/api/v1/returns"): Op(expect(401, own_shopper=422, other_shopper=404)),  # the line is claimed
    ("GET", "/api/v1/returns"): Op(staff_only("warehouse", "finance", "integration", ok=200)),
    ("GET", "/api/v1/returns.csv"): Op(staff_only("warehouse", "finance", "integration", ok=200)),
    ("POST", "/api/v1/returns/bulk-approve"): Op(staff_only(ok=200), json={"ids": ["R-NOSUCHMATRIX"]}),
    ("GET", "/api/v1/returns/{rid}"): Op(expect(200, none=401, other_shopper=404)),
    ("GET", "/api/v1/returns/{rid}/label.pdf"): Op(expect(200, none=401, other_shopper=404)),
    ("GET", "/api/v1/returns/{rid}/label.zpl"): Op(expect(200, none=401, other_shopper=404)),
    ("POST", "/api/v1/returns/{rid}/cancel"): Op(expect(403, none=401, other_shopper=404, own_shopper=409,
                                                        admin=409)),
    ("POST", "/api/v1/returns/{rid}/approve"): Op(staff_only(ok=409)),
    ("POST", "/api/v1/returns/{rid}/label"): Op(expect(409, none=401, other_shopper=404)),  # only awaiting shipment
    # Received at the dock (issue 18) by the first allowed caller, admin; the warehouse then finds it received.
    ("POST", "/api/v1/returns/{rid}/receive"): Op({**staff_only("warehouse", ok=409), "admin": 200}),
    ("POST", "/api/v1/returns/{rid}/photos"): Op(staff_only("warehouse", ok=422), json={}),  # not multipart
    ("GET", "/api/v1/returns/{rid}/photos/{photo_id}"): Op(staff_only("warehouse", "finance", ok=404)),
    ("POST", "/api/v1/returns/{rid}/resolve"): Op(staff_only("warehouse", "finance", ok=422), json={}),
    ("POST", "/api/v1/returns/{rid}/reject"): Op(staff_only(ok=409), json={"reason": "matrix"}),
    ("POST", "/api/v1/returns/{rid}/inspection"): Op(staff_only("warehouse", ok=422), json={}),
    ("POST", "/api/v1/returns/{rid}/refund-review"): Op(staff_only("finance", ok=422), json={}),
    ("GET", "/api/v1/store-credit/{code}"): Op(staff_only("integration", ok=200)),
    ("POST", "/api/v1/store-credit/{code}/redeem"): Op(staff_only("integration", ok=422), json={}),
    # Webhooks authenticate by signature, not bearer: unsigned is 401 whoever sends it.
    ("POST", "/api/v1/webhooks/carriers/local"): Op(expect(401), json={"tracking_number": "LC1"}),
    ("POST", "/api/v1/webhooks/easypost"): Op(expect(401), json={"description": "tracker.updated"}),
}  # fmt: skip


def operations() -> set[tuple[str, str]]:
    schema = create_app().openapi()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


async def test_every_operation_of_the_app_is_in_the_matrix():
    ops = operations()
    unlisted = sorted(ops - set(MATRIX))
    assert not unlisted, f"routes nobody decided who may call; add them to MATRIX: {unlisted}"
    gone = sorted(set(MATRIX) - ops)
    assert not gone, f"MATRIX lists routes the app no longer has: {gone}"


@pytest.fixture
async def world(client, shop, returns, tokens, settings) -> dict[str, Any]:
    own = await shop.order()
    other = await shop.order()
    ret, own_headers = await returns.create(own, line())
    assert (await returns.scan(inbound_tracking(ret), "in_transit")).status_code == 202
    await returns.wait_status(ret["id"], own_headers, "in_transit")
    code = new_code()
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        s.add(StoreCredit(code=code, email=own.email, currency="EUR", balance=1500))
    headers = {"none": {}, "own_shopper": own_headers, "other_shopper": await tokens.shopper(other.number, other.email)}
    for role in STAFF:
        headers[role] = await tokens.staff(role)
    return {"rid": ret["id"], "code": code, "own": own, "other": other, "headers": headers}


@pytest.mark.parametrize("op", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
async def test_each_caller_gets_exactly_its_answer(client, world, op):
    method, template = op
    spec = MATRIX[op]
    path = template.format(rid=world["rid"], code=world["code"], sku="TEE-M", version=0, photo_id="0" * 32)
    got = {}
    for role in ROLES:
        body = spec.json
        if template == "/api/v1/portal/session":
            body = {"order_number": world["own"].number, "email": world["own"].email}
        elif template == "/api/v1/returns" and method == "POST":
            body = {"order_number": world["own"].number, "lines": [line()]}
        r = await client.request(method, path, headers=world["headers"][role], json=body, params=spec.params)
        got[role] = r.status_code
        if role == "other_shopper" and r.status_code == 200 and "/returns/" in path:
            pytest.fail(f"another order's shopper opened {path}")
    assert got == spec.expected, f"{method} {template}: got {got}, expected {spec.expected}"


async def test_another_shoppers_return_is_indistinguishable_from_none(client, world):
    """Same status and body as for a return that does not exist: nothing tells the return is there."""
    other = world["headers"]["other_shopper"]
    for suffix, method in (("", "GET"), ("/label.pdf", "GET"), ("/label.zpl", "GET"), ("/cancel", "POST")):
        theirs = await client.request(method, f"/api/v1/returns/{world['rid']}{suffix}", headers=other)
        nobodys = await client.request(method, f"/api/v1/returns/R-NOSUCH{uuid.uuid4().hex[:4]}{suffix}", headers=other)
        assert theirs.status_code == nobodys.status_code == 404, (suffix, theirs.text)
        assert theirs.json() == nobodys.json(), suffix
    r = await client.get("/api/v1/portal/order", headers=other)
    assert r.json()["number"] == world["other"].number
    r = await client.post("/api/v1/orders", json=order_payload(), headers=other)
    assert r.status_code == 401
