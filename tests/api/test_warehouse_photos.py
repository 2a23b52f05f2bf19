"""Issue 18's warehouse over HTTP: a parcel received at the dock before the carrier's delivery scan, the inspection's
outcome per line, and its photos (checked by content, metadata stripped, staff only), in the API and the console."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image

from tests.api.api_helpers import console_sign_in, inbound_tracking

pytestmark = pytest.mark.asyncio(loop_scope="session")

GPS = 0x8825  # the EXIF GPS IFD


def photo(kind: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small picture carrying EXIF with a GPS position and a camera, as a phone's would."""
    im = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif.get_ifd(GPS).update({1: "N", 2: (41.0, 9.0, 0.0), 3: "W", 4: (8.0, 36.0, 0.0)})
    out = io.BytesIO()
    im.save(out, kind, exif=exif.tobytes())
    data = out.getvalue()
    assert b"PhoneMaker" in data  # the metadata really is in what we send
    return data


def has_no_metadata(data: bytes) -> None:
    assert b"PhoneMaker" not in data and b"Phone 12" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert len(im.getexif()) == 0 and "exif" not in im.info and "xmp" not in im.info


async def received(returns, shop) -> tuple[dict, dict[str, str]]:
    ret, shopper = await returns.create(await shop.order())
    await returns.deliver(ret, shopper)
    return ret, shopper


async def upload(client, rid: str, headers, data: bytes, name: str = "p.png", kind: str = "image/png", line="L1"):
    return await client.post(f"/api/v1/returns/{rid}/photos", data={"line_id": line},
                             files={"file": (name, data, kind)}, headers=headers)  # fmt: skip


async def test_a_parcel_still_in_transit_is_received_at_the_dock(client, shop, returns, tokens):
    ret, shopper = await returns.create(await shop.order())
    rid, tracking = ret["id"], inbound_tracking(ret)
    assert (await returns.scan(tracking, "in_transit")).status_code == 202
    await returns.wait_status(rid, shopper, "in_transit")
    r = await client.post(f"/api/v1/returns/{rid}/receive", headers=await tokens.staff("warehouse"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"
    assert r.json()["timeline"][-1]["message"] == (
        f"received at the warehouse before the carrier's delivery scan: {tracking}"
    )
    assert (await returns.scan(tracking, "delivered")).status_code == 202  # later: changes nothing
    r = await client.post(f"/api/v1/returns/{rid}/inspection", headers=await tokens.staff("warehouse"), json={
        "lines": [{"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True}]})  # fmt: skip
    assert r.status_code == 200, r.text
    done = await returns.wait_status(rid, shopper, "completed")
    assert not any("delivered to the warehouse" in t["message"] for t in done["timeline"])


async def test_photos_are_stripped_of_metadata_and_shown_to_staff_only(client, shop, returns, tokens):
    ret, shopper = await received(returns, shop)
    rid, warehouse = ret["id"], await tokens.staff("warehouse")
    sent = photo("JPEG")
    r = await upload(client, rid, warehouse, sent, "IMG_0001.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    jpeg = r.json()
    assert (jpeg["line_id"], jpeg["content_type"]) == ("L1", "image/jpeg") and re.fullmatch(r"[0-9a-f]{32}", jpeg["id"])
    r = await upload(client, rid, warehouse, photo("PNG"), "shot.jpg", "image/jpeg")  # its content decides
    assert r.status_code == 201 and r.json()["content_type"] == "image/png", r.text
    png = r.json()["id"]

    for role in ("warehouse", "finance", "admin"):
        got = await client.get(f"/api/v1/returns/{rid}/photos/{jpeg['id']}", headers=await tokens.staff(role))
        assert got.status_code == 200, (role, got.text)
        assert got.headers["content-type"] == "image/jpeg" and got.headers["x-content-type-options"] == "nosniff"
        has_no_metadata(got.content)
    with Image.open(io.BytesIO(got.content)) as im:
        assert im.size == (64, 48)  # the picture itself is kept
    has_no_metadata((await client.get(f"/api/v1/returns/{rid}/photos/{png}", headers=warehouse)).content)
    assert (await client.get(f"/api/v1/returns/{rid}/photos/{png}", headers=shopper)).status_code == 401
    integration = await tokens.staff("integration")
    assert (await client.get(f"/api/v1/returns/{rid}/photos/{png}", headers=integration)).status_code == 403
    assert (await client.get(f"/api/v1/returns/{rid}/photos/{'0' * 32}", headers=warehouse)).status_code == 404
    assert (await upload(client, rid, shopper, photo())).status_code == 401
    assert (await upload(client, rid, await tokens.staff("finance"), photo())).status_code == 403

    body = {"lines": [{"line_id": "L1", "accepted_quantity": 0, "condition": "new", "restock": False,
                       "outcome": "wrong_item", "photos": [jpeg["id"], png]}]}  # fmt: skip
    r = await client.post(f"/api/v1/returns/{rid}/inspection", json=body, headers=warehouse)
    assert r.status_code == 200, r.text
    assert (r.json()["lines"][0]["outcome"], r.json()["lines"][0]["photos"]) == ("wrong_item", [jpeg["id"], png])
    mine = await returns.get(rid, shopper)
    assert (mine["lines"][0]["outcome"], mine["lines"][0]["photos"]) == (None, [])
    assert (await upload(client, rid, warehouse, photo())).status_code == 409  # inspected: no more photos


async def test_photos_that_are_not_images_too_big_or_too_many_are_refused(client, shop, returns, tokens):
    ret, _ = await received(returns, shop)
    rid, warehouse = ret["id"], await tokens.staff("warehouse")
    r = await upload(client, rid, warehouse, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.png", "image/png")
    assert r.status_code == 422 and r.json()["detail"].startswith("file:"), r.text
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert (await upload(client, rid, warehouse, gif.getvalue(), "x.gif", "image/gif")).status_code == 422
    big = await upload(client, rid, warehouse, photo("PNG") + b"\0" * (5 * 1024 * 1024))
    assert big.status_code == 413 and big.json()["detail"].startswith("file:"), big.text
    r = await upload(client, rid, warehouse, photo(), line="L9")
    assert r.status_code == 422 and r.json()["detail"].startswith("line_id:"), r.text
    ids = [(await upload(client, rid, warehouse, photo())).json()["id"] for _ in range(3)]
    fourth = await upload(client, rid, warehouse, photo())
    assert fourth.status_code == 422 and "at most 3 photos" in fourth.json()["detail"], fourth.text

    line = {"line_id": "L1", "accepted_quantity": 1, "condition": "new", "restock": True}
    path = f"/api/v1/returns/{rid}/inspection"
    r = await client.post(path, json={"lines": [{**line, "photos": ids + ids[:1]}]}, headers=warehouse)
    assert r.status_code == 422, r.text  # more than 3
    r = await client.post(path, json={"lines": [{**line, "photos": [ids[0], ids[0]]}]}, headers=warehouse)
    assert r.status_code == 422 and r.json()["detail"].startswith("lines[0].photos:"), r.text
    other, _ = await received(returns, shop)
    r = await client.post(f"/api/v1/returns/{other['id']}/inspection", json={"lines": [{**line, "photos": ids[:1]}]},
                          headers=warehouse)  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"].startswith("lines[0].photos:"), r.text
    r = await client.post(path, json={"lines": [{**line, "outcome": "lost"}]}, headers=warehouse)
    assert r.status_code == 422 and "outcome" in r.text


async def test_the_console_asks_for_every_answer_takes_photos_and_goes_back_to_the_scan(
    client: httpx.AsyncClient, shop, returns, tokens
):
    ret, shopper = await received(returns, shop)
    rid = ret["id"]
    await console_sign_in(client, tokens, "warehouse", name="wanda")
    page = await client.get(f"/staff/returns/{rid}")
    form = page.text[page.text.index('id="inspection"') :]
    assert 'enctype="multipart/form-data"' in page.text
    assert " selected" not in form and " checked" not in form  # nothing preset
    assert re.search(r'id="l0-accepted"[^>]*value=""', form)
    csrf = client.cookies.get("staff_csrf")
    r = await client.post(f"/staff/returns/{rid}/inspection", data={"csrf": csrf, "l0-accepted": "0"},
                          files={"l0-photos": ("p.png", photo(), "image/png")})  # fmt: skip
    assert r.status_code == 422
    assert 'id="l0-condition-error"' in r.text and 'id="l0-outcome-error"' in r.text
    r = await client.post(f"/staff/returns/{rid}/inspection", files={"l0-photos": ("p.png", photo(), "image/png")},
                          data={"csrf": csrf, "l0-accepted": "0", "l0-condition": "new", "l0-outcome": "wrong_item"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"/staff/warehouse?inspected={rid}", r.text
    page = await client.get(r.headers["location"])
    assert f'Inspection of return <span class="id">{rid}</span> recorded' in page.text and "autofocus" in page.text
    for other in ("R-NOSUCH", "R-%00", "x" * 300):  # only a real return is confirmed; nothing else is read
        page = await client.get(f"/staff/warehouse?inspected={other}")
        assert page.status_code == 200 and 'id="inspected"' not in page.text
    shown = await client.get(f"/staff/returns/{rid}")
    assert "Wrong item" in shown.text
    src = re.search(rf'<img src="(/staff/returns/{rid}/photos/[0-9a-f]{{32}})"', shown.text)
    assert src, shown.text
    got = await client.get(src.group(1))
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    has_no_metadata(got.content)
    client.cookies.clear()
    assert (await client.get(src.group(1))).status_code in (303, 401)  # not signed in: the sign-in page
    await returns.wait_status(rid, shopper, "pending_refund_review")  # nothing accepted: finance reviews it
    await console_sign_in(client, tokens, "finance")
    review = await client.get("/staff/finance")
    assert src.group(1) in review.text
    client.cookies.clear()
