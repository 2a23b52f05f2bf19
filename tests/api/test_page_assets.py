"""Every file a page names (styles, scripts, the icon) is served: a missing one is a console error on every page."""

from __future__ import annotations

import re

import pytest

PAGES = ["/portal", "/staff/login"]


@pytest.mark.parametrize("page", PAGES)
async def test_every_asset_a_page_names_is_served(client, page):
    html = (await client.get(page)).text
    assets = re.findall(r'<(?:link|script)[^>]*?(?:href|src)="(/[^"]+)"', html)
    assert "/static/favicon.svg" in assets, "the page names no icon: browsers then ask for /favicon.ico and get 404"
    for path in assets:
        r = await client.get(path)
        assert r.status_code == 200, path
