"""axe-core (the accessibility engine, pinned in web/package-lock.json) run in a Playwright page."""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
#: the rule sets checked: WCAG 2.0–2.2 levels A and AA, and axe's best practices
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")


@cache
def axe_source() -> str:
    if not AXE_JS.is_file():
        raise AssertionError(f"{AXE_JS} is missing: run 'make' (it installs web/ with npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def violations(page, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """axe-core's violations of ``impacts`` on the page as it is now: rule id, impact, help and the elements."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 8),
                                           count: v.nodes.length}));
        }""",
        TAGS,
    )
    return [v for v in found if v["impact"] in impacts]


def describe(found: list[dict]) -> str:
    """One line per violated rule, for an assertion message."""
    return "\n".join(f"{v['impact']}: {v['id']} ({v['count']}×) {v['help']}: {', '.join(v['nodes'])}" for v in found)
