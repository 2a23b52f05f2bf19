"""The shop's brand on the portal (issue 19): logo, colours, support and policy links, and the CSP's image origins."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from api.main import create_app
from domain.brand import BrandSettings
from domain.models import Order
from settings import Settings
from tests.api.api_helpers import order_payload, portal_order_page


def _app_client(settings: Settings, brand: BrandSettings) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update={"brand": brand, "shop_name": "Loja da Ana"}))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_portal_pages_carry_the_shops_brand(settings: Settings) -> None:
    brand = BrandSettings(logo_url="https://cdn.loja.example/logo.png", color="#C0392B",
                          support_email="ajuda@loja.example", policy_url="https://loja.example/devolucoes",
                          image_origins=["https://img.loja.example"])  # fmt: skip
    async with _app_client(settings, brand) as http:
        page = await http.get("/portal?lang=pt")
        css = await http.get("/brand.css")
    html = page.text
    assert '<img src="https://cdn.loja.example/logo.png" alt="Loja da Ana"' in html
    assert 'href="mailto:ajuda@loja.example"' in html and 'href="https://loja.example/devolucoes"' in html
    assert "Política de devoluções" in html and "Loja da Ana</title>" in html
    assert '<link rel="stylesheet" href="/brand.css">' in html
    img_src = next(d for d in page.headers["content-security-policy"].split("; ") if d.startswith("img-src"))
    assert img_src.split() == ["img-src", "'self'", "data:", "https://img.loja.example", "https://cdn.loja.example"]
    assert "style-src 'self';" in page.headers["content-security-policy"]  # still no inline style
    assert css.headers["content-type"].startswith("text/css")
    assert "--pico-primary-background:#c0392b" in css.text and "--pico-primary-inverse:#fff" in css.text


async def test_without_a_brand_the_portal_names_the_shop_and_loads_images_from_itself(settings: Settings) -> None:
    async with _app_client(settings, BrandSettings()) as http:
        page = await http.get("/portal")
    assert "<strong>Loja da Ana</strong>" in page.text and "shop-footer" not in page.text
    assert "img-src 'self' data:;" in page.headers["content-security-policy"]


async def test_a_light_colour_gets_dark_text_and_readable_links() -> None:
    css = BrandSettings(color="#ffdd00").stylesheet()
    assert "--pico-primary-inverse:#000" in css and "--pico-primary:#726300" in css


@pytest.mark.parametrize("origin", ["https://x.example; script-src *", "https://x.example/img", "data:",
                                    "javascript:alert(1)", "https://x.example 'unsafe-inline'"])  # fmt: skip
def test_an_image_origin_that_would_change_the_csp_is_refused_at_start(origin: str) -> None:
    with pytest.raises(ValidationError):
        BrandSettings(image_origins=[origin])


def test_brand_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVERSO_BRAND__COLOR", "#123456")
    monkeypatch.setenv("REVERSO_BRAND__IMAGE_ORIGINS", '["https://img.shop.example"]')
    monkeypatch.setenv("REVERSO_BRAND__SUPPORT_EMAIL", "help@shop.example")
    brand = Settings().brand
    assert (brand.color, brand.image_origins, brand.support_email) == ("#123456", ["https://img.shop.example"],
                                                                       "help@shop.example")  # fmt: skip
    monkeypatch.setenv("REVERSO_BRAND__COLOR", "red; }")
    with pytest.raises(ValidationError):
        Settings()


async def test_product_pictures_show_from_allowed_origins_only(settings: Settings, client, tokens) -> None:
    """Inventory items and order lines carry pictures; the portal shows a line's picture when the CSP lets the
    browser load it (REVERSO_BRAND__IMAGE_ORIGINS), and never writes an <img> the browser would block."""
    put = await client.put("/api/v1/inventory/MUG-BLUE", headers=await tokens.staff("integration"),
                           json={"title": "Mug", "unit_price": 1500, "currency": "EUR", "available": 4,
                                 "product": "MUG", "options": {"colour": "blue"},
                                 "image_url": "https://img.loja.example/mug-blue.jpg"})  # fmt: skip
    assert put.status_code == 200, put.text
    assert (put.json()["product"], put.json()["options"]) == ("MUG", {"colour": "blue"})
    bad = await client.put("/api/v1/inventory/MUG-RED", headers=await tokens.staff("integration"),
                           json={"title": "Mug", "unit_price": 1500, "currency": "EUR", "available": 4,
                                 "image_url": "javascript:alert(1)"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.image_url"
    lines = [{"id": "L1", "sku": "TEE-M", "title": "Tee", "quantity": 1, "unit_price": 2500,
              "image_url": "https://img.loja.example/tee.jpg"},
             {"id": "L2", "sku": "CAP", "title": "Cap", "quantity": 1, "unit_price": 900,
              "image_url": "https://elsewhere.example/cap.jpg"}]  # fmt: skip
    body = order_payload(lines=lines)
    assert (
        await client.post("/api/v1/orders", json=body, headers=await tokens.staff("integration"))
    ).status_code == 201
    order = Order.model_validate(body)
    allowed = BrandSettings(image_origins=["https://img.loja.example"])
    async with _app_client(settings, allowed) as http:
        http._transport.app.state.temporal = client._transport.app.state.temporal  # type: ignore[attr-defined]
        page = await portal_order_page(http, order)
    assert page.status_code == 200, page.text
    assert '<img src="https://img.loja.example/tee.jpg"' in page.text
    assert "elsewhere.example" not in page.text  # not an allowed origin: no broken picture
