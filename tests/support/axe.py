"""Accessibility checks of a page in the browser tests: axe-core (vendored, never downloaded at test time) and
"nothing scrolls sideways"."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

# Every rule of every impact; only those that cannot apply to server-rendered pages tested one at a time are off.
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " "))}));
}"""


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now. The script is evaluated through the DevTools protocol, which
    the pages' strict CSP does not govern, so the page itself stays as it is served."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_source() + "\n;0")
    return list(page.evaluate(RUN))


def assert_accessible(page: Any, where: str = "") -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core violations on {where or page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations
    )


def sideways_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0: nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))
