"""The shop's brand on the portal (issue 19): logo, colours, support and policy links, and the CSP's image origins."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from api.main import create_app
from domain.brand import BrandSettings
from settings import Settings


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
