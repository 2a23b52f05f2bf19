"""Refusals and timelines as codes (issue 15): a refused change answers a `code` a program reads beside the same
`detail` as before, chosen from the workflow's refusal type and never from its sentence; the timeline's JSON
carries each entry's code and parameters, staff's words in today's English and a shopper's without staff names."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from api.temporal_calls import refusal
from tests.api.api_helpers import line
from workflows.contracts import ALREADY_SUBMITTED, REFUSAL_CODES

pytestmark = pytest.mark.asyncio(loop_scope="session")


def inspection(quantity: int) -> dict:
    return {"lines": [{"line_id": "L1", "accepted_quantity": quantity, "condition": "new", "restock": True}]}


async def test_a_refused_change_answers_its_code_beside_the_same_detail(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order(quantity=2), line(quantity=2))
    warehouse = await tokens.staff("warehouse")
    path = f"/api/v1/returns/{ret['id']}/inspection"
    early = await client.post(path, json=inspection(1), headers=warehouse)
    assert (early.status_code, early.json()) == (409, {
        "detail": "status: the return is awaiting_shipment; this needs received", "code": "wrong_status"})  # fmt: skip
    shapeless = await client.post(path, json={"lines": "all of them"}, headers=warehouse)
    assert shapeless.status_code == 422 and shapeless.json()["code"] == "invalid_field"
    assert shapeless.json()["detail"][0]["field"] == "body.lines"
    await returns.deliver(ret, headers)
    too_many = await client.post(path, json=inspection(3), headers=warehouse)
    assert too_many.status_code == 422 and too_many.json()["code"] == "invalid_field"
    assert "accepted_quantity" in too_many.json()["detail"]
    cancel = await client.post(f"/api/v1/returns/{ret['id']}/cancel", headers=headers)
    assert (cancel.status_code, cancel.json()["code"]) == (409, "wrong_status")
    assert cancel.json()["detail"] == "status: the return is received; this needs pending_approval or awaiting_shipment"
    missing = await client.get("/api/v1/returns/R-NOSUCHRETURN1", headers=warehouse)
    assert (missing.status_code, missing.json()) == (404, {"detail": "return not found", "code": "not_found"})


async def test_a_keyed_submit_sent_again_with_another_body_is_already_submitted(client, shop, tokens):
    order = await shop.order(quantity=2)
    headers = {**await tokens.shopper(order.number, order.email), "Idempotency-Key": "codes-1"}
    first = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line(quantity=1)]},
                              headers=headers)  # fmt: skip
    assert first.status_code == 201, first.text
    other = await client.post("/api/v1/returns", json={"order_number": order.number, "lines": [line(quantity=2)]},
                              headers=headers)  # fmt: skip
    assert (other.status_code, other.json()["code"]) == (422, "already_submitted")
    assert other.json()["detail"].startswith("Idempotency-Key: already used")


async def test_the_status_comes_from_the_refusal_type_never_from_its_words():
    # A sentence that once meant "conflict" decides nothing: the type does.
    assert (refusal(ApplicationError("status: whatever", type="InvalidField")).status, "invalid_field") == (422, "invalid_field")  # fmt: skip
    wrong = refusal(ApplicationError("no prefix at all", type="WrongStatus"))
    assert (wrong.status, wrong.code, wrong.detail) == (409, "wrong_status", "no prefix at all")
    again = refusal(ApplicationError(ALREADY_SUBMITTED, type="AlreadySubmitted"))
    assert (again.status, again.code, again.detail) == (422, "already_submitted", ALREADY_SUBMITTED)
    limited = refusal(ApplicationError("label: too often", 120, "2026-12-08T10:00:00+00:00", type="RateLimited"))
    assert (limited.status, limited.code, limited.headers) == (429, "rate_limited", {"Retry-After": "120"})
    assert refusal(ApplicationError("amount: 9 is more", type="AmountTooLarge")).status == 422
    assert set(REFUSAL_CODES.values()) >= {"wrong_status", "invalid_field", "already_submitted", "rate_limited",
                                          "ineligible_lines", "amount_too_large"}  # fmt: skip


async def test_the_timeline_json_has_codes_staff_english_and_no_staff_name_for_shoppers(client, shop, returns, tokens):
    ret, headers = await returns.create(await shop.order(unit_price=30000))
    admin = await tokens.staff("admin", "ana-admin-codes")
    approved = await client.post(f"/api/v1/returns/{ret['id']}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    staff_view = (await client.get(f"/api/v1/returns/{ret['id']}", headers=admin)).json()
    shopper_view = await returns.get(ret["id"], headers)
    staff_entry = next(x for x in staff_view["timeline"] if x["code"] == "approved")
    assert (staff_entry["message"], staff_entry["by"], staff_entry["params"]) == ("approved by the shop",
                                                                               "ana-admin-codes", {})  # fmt: skip
    label = next(x for x in staff_view["timeline"] if x["code"] == "label_issued")
    tracking = staff_view["shipments"][0]["tracking_number"]
    assert (label["params"], label["message"]) == (
        {"tracking_numbers": [tracking]}, f"return label issued, tracking number {tracking}")  # fmt: skip
    assert [x["code"] for x in shopper_view["timeline"]] == [x["code"] for x in staff_view["timeline"]]
    assert "ana-admin-codes" not in str(shopper_view["timeline"])
    assert next(x for x in shopper_view["timeline"] if x["code"] == "approved")["message"] == "approved by the shop"


async def test_a_shoppers_page_reads_the_timeline_in_portuguese(client, shop, returns):
    from tests.api.api_helpers import portal_order_page

    order = await shop.order()
    ret, _ = await returns.create(order)
    await portal_order_page(client, order)
    page = await client.get(f"/portal/returns/{ret['id']}?lang=pt")
    assert page.status_code == 200, page.text
    assert "etiqueta de devolução emitida, número de seguimento" in page.text
    assert "return label issued" not in page.text
