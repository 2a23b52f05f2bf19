"""Label formats over HTTP: 4x6 and A4 PDF, ZPL, each parcel of a split return; API, portal and staff console."""

from __future__ import annotations

import pypdfium2 as pdfium
from sqlalchemy import select, update

from db.engine import get_sessionmaker
from db.models import ShipmentRow
from labels import LabelData, render_label
from tests.api.api_helpers import console_sign_in, inbound_tracking
from tests.labels.test_zpl import fields
from tests.support.scanning import page_codes


def scanned(pdf: bytes) -> tuple[tuple[int, int], set[tuple[str, str]], str]:
    page = pdfium.PdfDocument(pdf)[0]
    size = tuple(round(v) for v in page.get_size())
    codes = {(b.format.name, b.text) for b in page_codes(page)}
    return size, codes, page.get_textpage().get_text_range()  # type: ignore[return-value]


def zpl_codes(zpl: bytes) -> dict[str, str]:
    found = fields(zpl)[1]
    return {
        "code128": next(f.data for f in found if "BC" in f.commands),
        "qr": next(f.data for f in found if "BQ" in f.commands),
        "text": " | ".join(f.data for f in found if "FD" in f.commands or "FX" in f.commands),
    }


async def add_parcel(settings, rid: str, parcel: int, parcels: int) -> str:
    """A second parcel's label as the local carrier stores it (label data and PDF), beside parcel 1."""
    sessions = get_sessionmaker(settings.resolved_database_url())
    async with sessions.begin() as s:
        first = await s.scalar(select(ShipmentRow).where(ShipmentRow.return_id == rid, ShipmentRow.parcel == 1))
        assert first is not None and first.label_data is not None
        tracking = f"LC9{parcel:011d}"[:14] + rid[-2:]
        data = LabelData.model_validate(
            {**first.label_data, "tracking_number": tracking, "parcel": parcel, "parcels": parcels}
        )
        s.add(ShipmentRow(tracking_number=tracking, return_id=rid, direction="inbound", carrier="local",
                          status="label_created", label_pdf=render_label(data), parcel=parcel,
                          label_data=data.model_dump(mode="json")))  # fmt: skip
    return tracking


async def test_a4_and_zpl_carry_the_same_numbers_as_the_4x6(client, shop, returns, tokens):
    ret, shopper = await returns.create(await shop.order())
    rid, tracking = ret["id"], inbound_tracking(ret)
    staff = await tokens.staff("warehouse")
    for who in (shopper, staff):
        default = await client.get(f"/api/v1/returns/{rid}/label.pdf", headers=who)
        a4 = await client.get(f"/api/v1/returns/{rid}/label.pdf?size=a4", headers=who)
        zpl = await client.get(f"/api/v1/returns/{rid}/label.zpl", headers=who)
        for r in (default, a4, zpl):
            assert r.status_code == 200, r.text
        assert default.headers["content-type"] == a4.headers["content-type"] == "application/pdf"
        assert zpl.headers["content-type"] == "application/zpl"
        assert 'filename="return-label-' + rid + '.zpl"' in zpl.headers["content-disposition"]
        want = {("Code128", tracking), ("QRCode", rid)}
        size, codes, text = scanned(default.content)
        assert size == (288, 432) and codes == want and "parcel 1/1" in text
        size, codes, text = scanned(a4.content)
        assert size == (595, 842) and codes == want and "parcel 1/1" in text
        z = zpl_codes(zpl.content)
        assert z["code128"] == tracking and z["qr"] == f"MA,{rid}" and "parcel 1/1" in z["text"]


async def test_bad_size_or_parcel_is_refused_naming_the_field(client, shop, returns):
    ret, shopper = await returns.create(await shop.order())
    for query, name in (("size=a5", "size"), ("parcel=0", "parcel"), ("parcel=x", "parcel")):
        r = await client.get(f"/api/v1/returns/{ret['id']}/label.pdf?{query}", headers=shopper)
        assert r.status_code == 422, (query, r.text)
        assert name in r.text


async def test_each_parcel_of_a_split_return_prints_its_own_label(client, shop, returns, settings):
    ret, shopper = await returns.create(await shop.order())
    rid = ret["id"]
    second = await add_parcel(settings, rid, 2, 2)
    r = await client.get(f"/api/v1/returns/{rid}/label.pdf?parcel=2&size=a4", headers=shopper)
    assert r.status_code == 200, r.text
    _, codes, text = scanned(r.content)
    assert codes == {("Code128", second), ("QRCode", rid)} and "parcel 2/2" in text
    z = await client.get(f"/api/v1/returns/{rid}/label.zpl?parcel=2", headers=shopper)
    assert zpl_codes(z.content)["code128"] == second and "parcel 2/2" in zpl_codes(z.content)["text"]
    assert "return-label-" + rid + '-2.zpl"' in z.headers["content-disposition"]
    first = await client.get(f"/api/v1/returns/{rid}/label.pdf", headers=shopper)
    assert ("Code128", inbound_tracking(ret)) in scanned(first.content)[1]
    missing = await client.get(f"/api/v1/returns/{rid}/label.pdf?parcel=3", headers=shopper)
    assert missing.status_code == 404 and "parcel 3" in missing.json()["detail"]


async def test_formats_that_cannot_be_made_are_404_with_the_reason(client, shop, returns, settings):
    ret, shopper = await returns.create(await shop.order())
    rid, tracking = ret["id"], inbound_tracking(ret)
    sessions = get_sessionmaker(settings.resolved_database_url())
    async with sessions.begin() as s:  # a label made before label data was stored
        await s.execute(update(ShipmentRow).where(ShipmentRow.tracking_number == tracking).values(label_data=None))
    assert (await client.get(f"/api/v1/returns/{rid}/label.pdf", headers=shopper)).status_code == 200
    for path in ("label.pdf?size=a4", "label.zpl"):
        r = await client.get(f"/api/v1/returns/{rid}/{path}", headers=shopper)
        assert r.status_code == 404
        assert r.json()["detail"].startswith("format:") and "made before" in r.json()["detail"], r.text
    async with sessions.begin() as s:  # a label a carrier API supplied as a file of its own
        await s.execute(update(ShipmentRow).where(ShipmentRow.tracking_number == tracking).values(carrier="easypost"))
    r = await client.get(f"/api/v1/returns/{rid}/label.zpl", headers=shopper)
    assert r.status_code == 404 and "carrier easypost" in r.json()["detail"]
    assert (await client.get(f"/api/v1/returns/{rid}/label.pdf", headers=shopper)).status_code == 200


async def test_another_shopper_gets_404_for_every_format(client, shop, returns, tokens):
    ret, _ = await returns.create(await shop.order())
    stranger = await tokens.shopper((await shop.order()).number)
    missing = await client.get("/api/v1/returns/R-NOSUCHRETURN/label.zpl", headers=stranger)
    for path in ("label.zpl", "label.pdf?size=a4", "label.pdf?parcel=2"):
        r = await client.get(f"/api/v1/returns/{ret['id']}/{path}", headers=stranger)
        assert r.status_code == 404 and r.json() == missing.json(), path


async def test_portal_prints_4x6_and_a4_and_staff_console_links_every_format(client, shop, returns, tokens, settings):
    ret, shopper = await returns.create(await shop.order())
    rid, tracking = ret["id"], inbound_tracking(ret)
    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    page = await client.get(f"/portal/returns/{rid}")
    assert f'href="/portal/returns/{rid}/label.pdf"' in page.text
    assert f'href="/portal/returns/{rid}/label.pdf?size=a4"' in page.text
    a4 = await client.get(f"/portal/returns/{rid}/label.pdf?size=a4")
    assert a4.status_code == 200 and scanned(a4.content)[0] == (595, 842)
    assert 'attachment; filename="return-label-' + rid + '-a4.pdf"' == a4.headers["content-disposition"]
    assert (await client.get(f"/portal/returns/{rid}/label.zpl")).content.startswith(b"^XA")
    client.cookies.clear()

    await console_sign_in(client, tokens, "warehouse")
    console = await client.get(f"/staff/returns/{rid}")
    for link in ("label.pdf?direction=inbound&amp;parcel=1", "label.pdf?size=a4&amp;direction=inbound&amp;parcel=1",
                 "label.zpl?direction=inbound&amp;parcel=1"):  # fmt: skip
        assert f'href="/staff/returns/{rid}/{link}"' in console.text, link
    zpl = await client.get(f"/staff/returns/{rid}/label.zpl?direction=inbound&parcel=1")
    assert zpl.status_code == 200 and zpl_codes(zpl.content)["code128"] == tracking
    sessions = get_sessionmaker(settings.resolved_database_url())
    async with sessions.begin() as s:
        await s.execute(update(ShipmentRow).where(ShipmentRow.tracking_number == tracking).values(label_data=None))
    refused = await client.get(f"/staff/returns/{rid}/label.zpl")
    assert refused.status_code == 404 and "made before other formats existed" in refused.text
    client.cookies.clear()
    assert (await client.get(f"/staff/returns/{rid}/label.zpl")).status_code == 303  # to the sign-in page

    client.cookies.set("portal_session", shopper["Authorization"].removeprefix("Bearer "))
    unavailable = await client.get(f"/portal/returns/{rid}/label.pdf?size=a4")
    assert unavailable.status_code == 404 and 'id="label-unavailable"' in unavailable.text
    assert (await client.get(f"/portal/returns/{rid}/label.pdf")).content.startswith(b"%PDF")
