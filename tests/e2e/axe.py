"""axe-core in the browser tests: the accessibility rules run on the page as the user
sees it. axe-core's script comes with the axe-playwright-python package (from the Python
registry); it is evaluated through the DevTools protocol, so the pages'
Content-Security-Policy (no inline script) stays as it is."""

from __future__ import annotations

from typing import Any

SERIOUS = {"critical", "serious"}


def axe_source() -> str:
    """axe-core's script, as shipped inside the axe-playwright-python wheel (a dev
    dependency from the Python registry: no npm needed)."""
    from importlib import resources

    return (resources.files("axe_playwright_python") / "axe.min.js").read_text()


def serious_violations(page: Any) -> list[str]:
    """The critical or serious violations axe-core finds on the page, in words."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in SERIOUS
    ]
