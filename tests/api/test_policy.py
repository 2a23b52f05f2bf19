"""The policy document over HTTP: admin only, 422 naming the field, versions recorded on returns, rules applied."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from sqlalchemy import delete, select

from db.engine import get_engine, get_sessionmaker
from db.models import PolicyVersion
from db.policy_store import current_policy
from tests.api.api_helpers import console_sign_in, line, order_payload

pytestmark = pytest.mark.asyncio(loop_scope="session")
URL = "/api/v1/policy"


@pytest.fixture
async def admin(tokens) -> dict[str, str]:
    return await tokens.staff("admin")


@pytest.fixture(autouse=True)
async def _policy_restored(client, tokens):
    """Other tests share the database: put the document back as it was (as a new version)."""
    headers = await tokens.staff("admin")
    before = (await client.get(URL, headers=headers)).json()["document"]
    yield
    r = await client.put(URL, json=before, headers=headers)
    assert r.status_code == 200, r.text


async def put(client, admin, **changes) -> dict:
    document = (await client.get(URL, headers=admin)).json()["document"]
    r = await client.put(URL, json={**document, **changes}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_only_admins_read_or_replace_the_policy(client, tokens, shop, admin):
    order = await shop.order()
    document = (await client.get(URL, headers=admin)).json()["document"]
    for headers, status in [({}, 401), (await tokens.shopper(order.number, order.email), 401),
                            (await tokens.staff("warehouse"), 403), (await tokens.staff("finance"), 403),
                            (await tokens.staff("integration"), 403)]:  # fmt: skip
        assert (await client.get(URL, headers=headers)).status_code == status
        assert (await client.put(URL, json=document, headers=headers)).status_code == status


async def test_the_first_version_is_the_shipped_file(client, admin):
    got = (await client.get(URL, headers=admin)).json()
    assert got["version"] >= 1
    assert got["document"]["window_days"] == 30 and got["document"]["auto_approve_limit"] == 25000
    assert got["document"]["non_returnable_tags"] == ["final_sale", "non_returnable"]
    first = (await client.get(f"{URL}/versions/1", headers=admin)).json()
    assert first["created_by"] == "policy file" and first["document"]["window_days"] == 30


async def test_order_lines_carry_tags_and_categories_that_the_rules_read(client, admin, tokens):
    await put(client, admin, window_days_by_category={"electronics": 7}, non_returnable_tags=["hygiene"])
    lines = [{"id": "L1", "sku": "EAR", "title": "Earrings", "quantity": 1, "unit_price": 900, "tags": ["hygiene"]},
             {"id": "L2", "sku": "CAM", "title": "Camera", "quantity": 1, "unit_price": 9000,
              "category": "electronics"},
             {"id": "L3", "sku": "TEE", "title": "Tee", "quantity": 1, "unit_price": 2500}]  # fmt: skip
    body = order_payload(delivered_at=datetime.now(UTC) - timedelta(days=10), lines=lines)
    r = await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/portal/order", headers=await tokens.shopper(body["number"]))
    got = {x["id"]: (x["eligible"], x["reason"]) for x in r.json()["lines"]}
    # The shopper's words and codes: the shop's tags and categories are its own business.
    assert got["L1"] == (False, "this item cannot be returned")
    assert got["L2"][0] is False and got["L2"][1].startswith("return window of 7 days closed on")
    codes = {x["id"]: x["reason_code"] for x in r.json()["lines"]}
    assert codes["L1"] == {"code": "not_returnable_tag", "params": {}} and codes["L3"] is None
    assert codes["L2"]["code"] == "outside_window_by_category" and set(codes["L2"]["params"]) == {"days", "closed_on"}
    assert got["L3"] == (True, None)
    bad = order_payload(lines=[{**lines[0], "tags": [""]}])
    r = await client.post("/api/v1/orders", json=bad, headers=await tokens.staff("integration"))
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.lines.0.tags.0"


async def test_a_bad_document_gets_422_naming_the_field_path_and_changes_nothing(client, admin):
    before = (await client.get(URL, headers=admin)).json()
    r = await client.put(URL, json={"window_days_by_tag": {"boots": -3}, "windw_days": 10}, headers=admin)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["detail"]}
    assert fields == {"body.window_days_by_tag.boots", "body.windw_days"}
    r = await client.put(URL, json={"restocking_fee_bps_by_reason": {"changed_mind": 10_001}}, headers=admin)
    assert [e["field"] for e in r.json()["detail"]] == ["body.restocking_fee_bps_by_reason.changed_mind"]
    assert (await client.get(URL, headers=admin)).json()["version"] == before["version"]


async def test_each_return_records_the_version_it_was_decided_under(client, admin, returns, shop):
    first_order = await shop.order(quantity=2)
    before, headers = await returns.create(first_order, line())
    v = before["policy_version"]
    assert v == (await client.get(URL, headers=admin)).json()["version"]
    changed = await put(client, admin, auto_approve_limit=1000)
    assert changed["version"] == v + 1 and changed["created_by"].startswith("admin-")
    after, _ = await returns.create(await shop.order(), line())
    assert after["policy_version"] == v + 1 and after["status"] == "pending_approval"
    assert "a person at the shop will review this return before it goes ahead" in after["decision"]["reasons"]
    staff = await returns.get(after["id"], admin)
    assert (
        "value 25.00 EUR is above the auto-approve limit of 10.00 EUR: a person will review it"
        in (staff["decision_reasons"])
    )
    assert (await returns.get(before["id"], headers))["policy_version"] == v  # the older return keeps its version
    old = await client.get(f"{URL}/versions/{v}", headers=admin)
    assert old.status_code == 200 and old.json()["document"]["auto_approve_limit"] == 25000
    assert (await client.get(f"{URL}/versions/999999", headers=admin)).status_code == 404


async def test_restocking_fee_by_reason_shows_on_the_line(client, admin, returns, shop):
    await put(client, admin, restocking_fee_bps_by_reason={"changed_mind": 1000})
    ret, _ = await returns.create(await shop.order(), line(reason="changed_mind"))
    assert ret["amounts"]["fees_total"] == 250 and ret["amounts"]["refund_total"] == 2250
    assert "restocking fee 10%: 2.50 EUR" in ret["lines"][0]["reasons"]
    assert {"code": "restocking_fee", "params": {"bps": 1000, "reason": "changed_mind", "fee": 250,
                                                 "currency": "EUR"}} in ret["lines"][0]["reason_codes"]  # fmt: skip


async def test_keep_it_refunds_at_once_without_label_or_inspection(client, admin, returns, shop, mailbox):
    await put(client, admin, keep_it_below=3000, return_shipping_fee=400)
    order = await shop.order(quantity=1, unit_price=2500)
    ret, headers = await returns.create(order, line())
    assert ret["shipments"] == [] and "keep the items" in ret["decision"]["reasons"][-1]
    done = await returns.wait_status(ret["id"], headers, "completed")
    assert done["amounts"]["refund_total"] == 2500 and done["amounts"]["fees_total"] == 0
    assert done["lines"][0]["accepted_quantity"] == 1
    refunds = stripe.Refund.list(payment_intent=order.payment.reference)
    assert [x.amount for x in refunds.data] == [2500]
    assert "label" not in mailbox.kinds(ret["id"])
    label = await client.get(f"/api/v1/returns/{ret['id']}/label.pdf", headers=headers)
    assert label.status_code == 404


async def test_a_blocked_email_waits_for_a_person_who_alone_reads_why(client, admin, returns, shop, tokens, mailbox):
    await put(client, admin, blocked_emails=["Blocked@Example.com"], keep_it_below=100_000)
    ret, shopper = await returns.create(await shop.order(email_addr="blocked@example.com"), line())
    assert ret["status"] == "pending_approval" and ret["shipments"] == []
    assert "a person will review this return before it goes ahead" in ret["decision"]["reasons"]
    seen = await client.get(f"/api/v1/returns/{ret['id']}", headers=shopper)
    for _ in range(200):  # the e-mail goes out once the workflow's run resumes after the submit
        if "submitted" in mailbox.kinds(ret["id"]):
            break
        await asyncio.sleep(0.05)
    submitted = mailbox.body(ret["id"], "submitted")
    assert "A member of our team will look at it shortly" in submitted
    for text in (str(ret), seen.text, submitted):
        assert "block list" not in text
    admin_headers = await tokens.staff("admin")
    staff = await client.get(f"/api/v1/returns/{ret['id']}", headers=admin_headers)
    assert staff.json()["review_notes"] == ["e-mail blocked@example.com is on the block list: a person will review it"]
    await console_sign_in(client, tokens, "admin")
    console = await client.get(f"/staff/returns/{ret['id']}")
    assert "e-mail blocked@example.com is on the block list" in console.text, "the admin deciding reads why"


async def test_a_serial_returner_goes_to_manual_review(client, admin, returns, shop, tokens):
    email = "serial@example.com"
    await put(client, admin, serial_max_returns=2)
    for _ in range(2):
        ret, _ = await returns.create(await shop.order(email_addr=email), line())
        assert ret["status"] == "awaiting_shipment"
    third, _ = await returns.create(await shop.order(email_addr=email), line())
    assert third["status"] == "pending_approval"
    assert "a person will review this return before it goes ahead" in third["decision"]["reasons"]
    assert "in the last 90 days" not in str(third)
    staff = await client.get(f"/api/v1/returns/{third['id']}", headers=await tokens.staff("finance"))
    assert staff.json()["review_notes"] == [
        "3 returns in the last 90 days, more than the 2 allowed: a person will review it"
    ]


async def test_two_returns_at_once_for_the_last_unit_exactly_one_wins(client, returns, shop, tokens):
    order = await shop.order(quantity=1)
    headers = await tokens.shopper(order.number, order.email)
    body = {"order_number": order.number, "lines": [line()]}
    answers = await asyncio.gather(*(client.post("/api/v1/returns", json=body, headers=headers) for _ in range(2)))
    assert sorted(r.status_code for r in answers) == [201, 422], [r.text for r in answers]
    loser = next(r for r in answers if r.status_code == 422)
    assert "already returned" in str(loser.json()["detail"])
    r = await client.get("/api/v1/portal/order", headers=headers)
    assert r.json()["lines"][0]["returnable_quantity"] == 0


async def test_the_portal_estimate_is_what_the_return_then_gets(client, admin, returns, shop, tokens):
    await put(client, admin, return_shipping_fee=300, restocking_fee_bps_by_reason={"changed_mind": 1000})
    order = await shop.order(quantity=2)
    headers = await tokens.shopper(order.number, order.email)
    lines = [line(quantity=2, reason="changed_mind")]
    r = await client.post("/api/v1/portal/estimate", json={"lines": lines}, headers=headers)
    assert r.status_code == 200, r.text
    estimate = r.json()
    assert (estimate["refund_total"], estimate["fees_total"]) == (5000 - 500 - 300, 800)
    assert estimate["lines"][0]["reasons"][1:] == ["restocking fee 10%: 5.00 EUR",
                                                   "return shipping fee deducted: 3.00 EUR"]  # fmt: skip
    ret, _ = await returns.create(order, *lines)
    assert ret["amounts"]["refund_total"] == estimate["refund_total"]
    assert ret["lines"][0]["reasons"] == estimate["lines"][0]["reasons"]
    bad = await client.post("/api/v1/portal/estimate", json={"lines": [{**lines[0], "quantity": 0}]}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.lines.0.quantity"
    other = await shop.order()
    assert (await client.post("/api/v1/portal/estimate", json={"lines": lines})).status_code == 401
    r = await client.post("/api/v1/portal/estimate", json={"lines": lines},
                          headers=await tokens.shopper(other.number, other.email))  # fmt: skip
    # Each session estimates against its own order only (the other order has one unit of L1).
    assert r.json()["lines"][0]["refusal"] == "only 1 of this item can still be returned"


async def test_seeding_the_first_version_never_waits_on_an_open_request(settings):
    """A request that found no policy and still has its transaction open (e.g. while it waits for the workflow)
    must not block the claim activity seeding the same version 1."""
    sessions = get_sessionmaker(settings.resolved_database_url())
    async with sessions.begin() as s:
        saved = [(r.version, r.document, r.created_by, r.created_at) for r in await s.scalars(select(PolicyVersion))]
        await s.execute(delete(PolicyVersion))
    try:
        async with sessions() as request_session:
            first = await current_policy(request_session, settings.policy)  # transaction left open
            async with sessions.begin() as activity_session:
                again = await asyncio.wait_for(current_policy(activity_session, settings.policy), timeout=10)
            assert first.version == again.version == 1 and again.created_by == "policy file"
    finally:
        async with sessions.begin() as s:
            await s.execute(delete(PolicyVersion))
            s.add_all([PolicyVersion(version=v, document=d, created_by=b, created_at=at) for v, d, b, at in saved])


async def test_a_burst_of_first_requests_seeds_without_starving_the_pool(settings):
    """On a cold start every request finds no policy at once, each holding one pooled connection; seeding on a
    second pooled connection made them wait on each other until the pool gave up (503 to every shopper)."""
    sessions = get_sessionmaker(settings.resolved_database_url())
    engine = get_engine(settings.resolved_database_url())
    async with sessions.begin() as s:
        saved = [(r.version, r.document, r.created_by, r.created_at) for r in await s.scalars(select(PolicyVersion))]
        await s.execute(delete(PolicyVersion))

    async def request() -> int:
        async with sessions() as s:
            return (await current_policy(s, settings.policy)).version

    try:
        burst = engine.pool.size() + engine.pool._max_overflow  # every pooled connection held by one request
        versions = await asyncio.wait_for(asyncio.gather(*(request() for _ in range(burst))), timeout=20)
        assert set(versions) == {1}
    finally:
        async with sessions.begin() as s:
            await s.execute(delete(PolicyVersion))
            s.add_all([PolicyVersion(version=v, document=d, created_by=b, created_at=at) for v, d, b, at in saved])
