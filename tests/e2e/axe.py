"""axe-core in the browser tests: the accessibility rules run on the page as the user
sees it. axe-core comes from the npm registry (installed once into var/test/axe); its
script is evaluated through the DevTools protocol, so the pages' Content-Security-Policy
(no inline script) stays as it is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
AXE_DIR = ROOT / "var" / "test" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"critical", "serious"}


def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install axe-core (apt-get install npm)"
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", ".", "axe-core@4"],
            cwd=AXE_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_SCRIPT.read_text()


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
