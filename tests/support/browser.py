"""Shared by the browser tests: Debian's chromium, phone-sized pages, screenshots, the CSP guard, and axe-core on
every page state a test stops to look at (snap)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import services
from tests.support.axe import assert_accessible

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
PHONE = {"width": 390, "height": 844}
ARTIFACTS = services.ROOT / "test-artifacts"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")


def open_page(browser: Any, request: pytest.FixtureRequest, **options: Any) -> Iterator[Any]:
    """A phone-sized page; on failure (or with PORTAL_SCREENSHOTS=1) a screenshot of every page it visited."""
    context = browser.new_context(viewport=PHONE, accept_downloads=True, **options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and visited.append(frame.url))
    # The pages must work under the strict CSP: anything it blocks shows up as a console error.
    blocked: list[str] = []
    page.on("console", lambda msg: "Content Security Policy" in msg.text and blocked.append(msg.text))
    failed_before = request.session.testsfailed
    yield page
    if blocked or request.session.testsfailed > failed_before or os.environ.get("PORTAL_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{name}-last.png"), full_page=True)
        for i, url in enumerate(dict.fromkeys(visited)):
            if url.endswith(".pdf") or not url.startswith("http"):
                continue
            other = context.new_page()
            try:
                other.goto(url)
                other.screenshot(path=str(ARTIFACTS / f"{name}-{i:02d}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - best effort: the test's own failure is what matters
                pass
            other.close()
    context.close()
    assert not blocked, f"blocked by the CSP: {blocked}"


def snap(page: Any, name: str) -> None:
    """A page state worth looking at: axe-core must find nothing on it; a screenshot with PORTAL_SCREENSHOTS=1."""
    assert_accessible(page, name)
    if os.environ.get("PORTAL_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
