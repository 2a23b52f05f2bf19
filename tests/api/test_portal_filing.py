"""Issue 19's filing rules over the API: a category's own reasons, a reason that asks for a comment and photos, the
shopper's photos (theirs only, metadata stripped, seen by staff), the charge a shopper agreed to, and the exchange
choices by product (never the variant bought, a final-sale one or one out of stock)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from api.exchange_quotes import exchange_choices
from db.engine import get_sessionmaker
from db.queries import upsert_inventory, upsert_order
from domain.models import Order
from tests.api.api_helpers import console_sign_in, portal_order_page
from tests.api.test_warehouse_photos import has_no_metadata, photo

pytestmark = pytest.mark.asyncio(loop_scope="session")
URL = "/api/v1/policy"


@pytest.fixture
async def admin(tokens) -> dict[str, str]:
    return await tokens.staff("admin")


@pytest.fixture
async def mugs(client, admin):
    """A category of this test's own with its own reasons, one asking for a comment and a photo; the policy document
    is put back afterwards (other tests share the database)."""
    category = "mugs-" + uuid.uuid4().hex[:6]
    before = (await client.get(URL, headers=admin)).json()["document"]
    changed = {**before, "reasons_by_category": {**before["reasons_by_category"], category: ["arrived_broken",
                                                                                              "changed_mind"]},
               "reason_requirements": {**before["reason_requirements"],
                                       "arrived_broken": {"comment": True, "photos": 1}}}  # fmt: skip
    r = await client.put(URL, json=changed, headers=admin)
    assert r.status_code == 200, r.text
    yield category
    assert (await client.put(URL, json=before, headers=admin)).status_code == 200


async def mug_order(shop, category: str, price: int = 1500) -> Order:
    settings = shop.settings
    pi = stripe.PaymentIntent.create(amount=price, currency="eur", payment_method="pm_card_visa", confirm=True)
    now = await shop.clock() if shop.clock else datetime.now(UTC)
    order = Order.model_validate({
        "number": "M" + uuid.uuid4().hex[:8].upper(), "email": "mugs@example.com", "currency": "EUR",
        "placed_at": now - timedelta(days=7), "delivered_at": now - timedelta(days=5),
        "payment": {"provider": "stripe", "reference": pi.id},
        "shipping_address": {"name": "Ana Sousa", "line1": "Rua 1", "city": "Porto", "country": "PT"},
        "lines": [{"id": "L1", "sku": "MUG-1", "title": "Mug", "quantity": 1, "unit_price": price,
                   "category": category}],
    })  # fmt: skip
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        await upsert_order(s, order)
    return order


def mug_line(**more) -> dict:
    return {"line_id": "L1", "quantity": 1, "reason": "arrived_broken", "resolution": "refund", **more}


async def file(client, headers, order, *lines, **more):
    return await client.post("/api/v1/returns", json={"order_number": order.number, "lines": list(lines), **more},
                             headers=headers)  # fmt: skip


async def upload(client, headers, data: bytes, name: str = "p.jpg", kind: str = "image/jpeg"):
    return await client.post("/api/v1/portal/photos", files={"file": (name, data, kind)}, headers=headers)


def fields(r) -> list[str]:
    assert r.status_code == 422, r.text
    return [x["field"] for x in r.json()["detail"]]


async def test_policy_checks_its_reason_keys(client, admin):
    before = (await client.get(URL, headers=admin)).json()["document"]
    r = await client.put(URL, json={**before, "reason_requirements": {"no_such_reason": {"comment": True}}},
                         headers=admin)  # fmt: skip
    assert r.status_code == 422 and "reason_requirements" in r.text
    r = await client.put(URL, json={**before, "reason_requirements": {"defective": {"photos": 4}}}, headers=admin)
    assert r.status_code == 422 and "reason_requirements.defective.photos" in r.text
    r = await client.put(URL, json={**before, "reasons_by_category": {"mugs": []}}, headers=admin)
    assert r.status_code == 422 and "reasons_by_category.mugs" in r.text


async def test_a_category_offers_its_own_reasons(client, tokens, shop, mugs):
    order = await mug_order(shop, mugs)
    headers = await tokens.shopper(order.number, order.email)
    got = (await client.get("/api/v1/portal/order", headers=headers)).json()
    assert got["lines"][0]["return_reasons"] == ["arrived_broken", "changed_mind"]
    assert got["reason_requirements"]["arrived_broken"] == {"comment": True, "photos": 1}
    assert fields(await file(client, headers, order, mug_line(reason="too_small"))) == ["lines.0.reason"]


async def test_a_reason_asks_for_a_comment_and_a_photo(client, tokens, shop, mugs):
    order = await mug_order(shop, mugs)
    headers = await tokens.shopper(order.number, order.email)
    assert fields(await file(client, headers, order, mug_line())) == ["lines.0.comment", "lines.0.photo_ids"]
    assert fields(await file(client, headers, order, mug_line(comment="  "))) == ["lines.0.comment",
                                                                                 "lines.0.photo_ids"]  # fmt: skip
    long = await file(client, headers, order, mug_line(comment="x" * 1001))
    assert long.status_code == 422 and "comment" in long.text
    sent = await upload(client, headers, photo("JPEG"))
    assert sent.status_code == 201, sent.text
    pid = sent.json()["id"]
    r = await file(client, headers, order, mug_line(comment="The handle came off in the box.", photo_ids=[pid]))
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["lines"][0]["comment"] == "The handle came off in the box."
    # staff see the comment and the photo (metadata stripped) on the return's page and through the API
    await console_sign_in(client, tokens, "finance")
    page = await client.get(f"/staff/returns/{rid}")
    assert "The handle came off in the box." in page.text and f"/staff/returns/{rid}/photos/{pid}" in page.text
    shown = await client.get(f"/staff/returns/{rid}/photos/{pid}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    has_no_metadata(shown.content)
    api = await client.get(f"/api/v1/returns/{rid}/photos/{pid}", headers=await tokens.staff("warehouse"))
    assert api.status_code == 200
    # the shopper cannot read photos back
    assert (await client.get(f"/api/v1/returns/{rid}/photos/{pid}", headers=headers)).status_code in (401, 403, 404)


async def test_another_shoppers_photo_is_refused(client, tokens, shop, mugs):
    mine, theirs = await mug_order(shop, mugs), await mug_order(shop, mugs)
    my_headers = await tokens.shopper(mine.number, mine.email)
    their_headers = await tokens.shopper(theirs.number, theirs.email)
    their_photo = (await upload(client, their_headers, photo("PNG"), "p.png", "image/png")).json()["id"]
    r = await file(client, my_headers, mine, mug_line(comment="broken", photo_ids=[their_photo]))
    assert fields(r) == ["lines.0.photo_ids"]
    assert "another" not in r.text and theirs.number not in r.text
    assert fields(await file(client, my_headers, mine, mug_line(comment="broken", photo_ids=["0" * 32]))) == [
        "lines.0.photo_ids"
    ]


async def test_photo_upload_is_checked(client, tokens, shop, mugs):
    order = await mug_order(shop, mugs)
    headers = await tokens.shopper(order.number, order.email)
    assert (await upload(client, headers, b"%PDF-1.4 not an image", "x.jpg")).status_code == 422
    big = await upload(client, headers, b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10))
    assert big.status_code == 413
    assert (
        await client.post("/api/v1/portal/photos", files={"file": ("p.png", photo(), "image/png")})
    ).status_code == 401
    assert fields(await file(client, headers, order, mug_line(comment="x", photo_ids=["a" * 32] * 4))) == [
        "body.lines.0.photo_ids"
    ]


async def test_a_shopper_sees_their_own_photos_and_nobody_elses(client, tokens, shop, mugs):
    """The form's thumbnails (GET /portal/photos/{id}) show the signed-in shopper their own order's photos, cleaned;
    another order's photo, or none, is 404 alike, and so is every photo to someone not signed in."""
    mine, theirs = await mug_order(shop, mugs), await mug_order(shop, mugs)
    my_photo = (await upload(client, await tokens.shopper(mine.number, mine.email), photo("JPEG"))).json()["id"]
    their_headers = await tokens.shopper(theirs.number, theirs.email)
    their_photo = (await upload(client, their_headers, photo("PNG"), "p.png", "image/png")).json()["id"]
    client.cookies.clear()
    assert (await client.get(f"/portal/photos/{my_photo}")).status_code == 404  # not signed in
    await portal_order_page(client, mine)
    shown = await client.get(f"/portal/photos/{my_photo}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["x-content-type-options"] == "nosniff"
    has_no_metadata(shown.content)
    for other in (their_photo, "0" * 32, "x" * 100):
        assert (await client.get(f"/portal/photos/{other}")).status_code == 404
    # Taking another order's photo off a line of mine deletes nothing of theirs.
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "1", "l0-reason": "arrived_broken"}
    r = await client.post(
        "/portal/photos/remove", data={**form, "l0-photo": their_photo, "remove": f"l0-{their_photo}"}
    )
    assert r.status_code == 200 and their_photo not in r.text
    await portal_order_page(client, theirs)
    assert (await client.get(f"/portal/photos/{my_photo}")).status_code == 404
    assert (await client.get(f"/portal/photos/{their_photo}")).status_code == 200


async def test_a_photo_taken_off_before_filing_is_deleted_and_one_a_return_names_is_kept(client, tokens, shop, mugs):
    order = await mug_order(shop, mugs)
    await portal_order_page(client, order)
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "1", "l0-reason": "arrived_broken",
            "l0-comment": "The handle came off."}  # fmt: skip
    added = await client.post("/portal/photos", data=form, files={"l0-file": ("a.jpg", photo("JPEG"), "image/jpeg")})
    found = re.search(r'name="l0-photo" value="([0-9a-f]{32})"', added.text)
    assert added.status_code == 200 and found, added.text
    pid = found.group(1)
    assert f'<img src="/portal/photos/{pid}" alt="Your photo 1 of Mug"' in added.text
    assert 'aria-label="Remove photo 1 of Mug"' in added.text
    with_it = {**form, "l0-photo": pid}
    assert (
        await client.post("/portal/photos/remove", data={**with_it, "remove": f"l0-{pid}", "csrf": ""})
    ).status_code == 403
    # What the button never sends changes nothing: another line, another photo, another shape.
    for odd in ("", f"l0-{'0' * 32}", f"l1-{pid}", f"l0-{pid.upper()}", f"l0-{pid}\x00", "l0-" + pid * 100):
        kept = await client.post("/portal/photos/remove", data={**with_it, "remove": odd})
        assert kept.status_code == 200 and f'name="l0-photo" value="{pid}"' in kept.text, odd
    assert (await client.get(f"/portal/photos/{pid}")).status_code == 200
    gone = await client.post("/portal/photos/remove", data={**with_it, "remove": f"l0-{pid}"})
    assert gone.status_code == 200 and pid not in gone.text
    assert re.search(r'<input type="file" id="l0-file"[^>]* autofocus>', gone.text)  # room again, and the focus on it
    assert (await client.get(f"/portal/photos/{pid}")).status_code == 404  # deleted

    headers = await tokens.shopper(order.number, order.email)
    named = (await upload(client, headers, photo("JPEG"))).json()["id"]
    assert (await file(client, headers, order, mug_line(comment="Broken.", photo_ids=[named]))).status_code == 201
    r = await client.post("/portal/photos/remove", data={**form, "l0-photo": named, "remove": f"l0-{named}"})
    assert r.status_code == 200
    assert (await client.get(f"/portal/photos/{named}")).status_code == 200  # the filed return's, staff read it


async def _shirts(settings, final_sale_sku: str, prefix: str) -> None:
    async with get_sessionmaker(settings.resolved_database_url()).begin() as s:
        for size, price, available, final in (("S", 2500, 3, False), ("M", 2500, 3, False), ("L", 4000, 2, False),
                                              ("XL", 2500, 0, False), ("XS", 2500, 5, True)):  # fmt: skip
            sku = final_sale_sku if final else f"{prefix}-{size}"
            await upsert_inventory(s, sku, f"Shirt {size}", price, "EUR", available, product=prefix.lower(),
                                   options={"size": size}, final_sale=final)  # fmt: skip
        await upsert_inventory(s, f"{prefix}-CAP", "Cap", 1000, "EUR", 9)  # shares the sku prefix, not the product


async def test_exchange_choices_are_the_same_products_other_variants(settings, client):
    prefix = "SH" + uuid.uuid4().hex[:5].upper()
    await _shirts(settings, f"OUTLET-{prefix}", prefix)
    async with get_sessionmaker(settings.resolved_database_url())() as s:
        choices = [x.sku for x in await exchange_choices(s, f"{prefix}-M", "EUR")]
        legacy = [x.sku for x in await exchange_choices(s, f"{prefix}-ZZ", "EUR")]  # not in the inventory: by sku
    # not M (bought), not XL (out of stock), not the final-sale XS, not the cap of another product
    assert choices == [f"{prefix}-L", f"{prefix}-S"]
    assert f"{prefix}-CAP" in legacy and f"{prefix}-XL" not in legacy


async def test_accept_charge_must_be_the_charge(client, tokens, shop, settings):
    prefix = "SH" + uuid.uuid4().hex[:5].upper()
    await _shirts(settings, f"OUTLET-{prefix}", prefix)
    order = await shop.order(unit_price=2500)
    headers = await tokens.shopper(order.number, order.email)
    dearer = {"line_id": "L1", "quantity": 1, "reason": "too_small", "resolution": "exchange",
              "exchange_sku": f"{prefix}-L"}  # fmt: skip
    r = await file(client, headers, order, dearer, accept_charge=1000)
    assert fields(r) == ["accept_charge"] and "1500" in r.text
    r = await file(client, headers, order, dearer, accept_charge=1500)
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["price_difference"] == 1500


async def test_the_form_shows_the_store_credit_bonus_and_links_its_errors(client, admin, shop, mugs):
    before = (await client.get(URL, headers=admin)).json()["document"]
    r = await client.put(URL, json={**before, "store_credit_bonus_bps": 1000}, headers=admin)
    assert r.status_code == 200, r.text
    order = await mug_order(shop, mugs)
    page = await portal_order_page(client, order)
    assert 'id="step-2"' not in page.text  # one step at a time
    form = {"csrf": client.cookies.get("portal_csrf"), "l0-qty": "1"}
    steps = await client.post("/portal/order/steps", data=form)
    assert '<option value="" selected>Choose a reason</option>' in steps.text and 'id="step-3"' not in steps.text
    steps = await client.post("/portal/order/steps", data={**form, "l0-reason": "arrived_broken"})
    assert "+10% extra" in steps.text and "Tell us what happened (required)" in steps.text
    filed = await client.post(
        "/portal/returns", data={**form, "l0-reason": "arrived_broken", "l0-resolution": "refund"}
    )
    assert filed.status_code == 422
    assert 'aria-describedby="l0-comment-error" aria-invalid="true"' in filed.text
    assert 'id="l0-file-error"' in filed.text
    again = await client.post("/portal/order/steps", data={**form, "l0-reason": "changed_mind"})
    assert "field-error" not in again.text  # a change clears the last submit's errors
