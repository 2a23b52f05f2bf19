"""Fixtures of the browser tests: one `reverso dev` per test module, one chromium, phone-sized pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import services
from tests.support.browser import ARGS, CHROMIUM, open_page
from tests.support.services import DevStack

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[DevStack]:
    with services.scratch_dir(f"reverso-{request.module.__name__.rsplit('.', 1)[-1]}-") as tmp:
        with services.dev_stack(tmp) as running:
            yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_page(browser, request, locale="en-GB")


@pytest.fixture
def page_pt(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_page(browser, request, locale="pt-PT")
