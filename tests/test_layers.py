"""Imports point one way only: carnet -> billing, sharing -> records -> core.

A service may import a lower floor, never a higher one nor (billing/sharing) a sibling.
This test reads the source (no import side effects) and fails naming the offending line.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "services"

FLOOR = {
    "core": 0,
    "records": 1,
    "billing": 2,
    "sharing": 2,
    "agenda": 2,
    "lab": 2,
    "carnet": 3,
}


def imported_services(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, name) for line, name in found if name in FLOOR]


def violations() -> list[str]:
    problems = []
    for package, floor in FLOOR.items():
        for path in sorted((SERVICES / package).rglob("*.py")):
            for line, imported in imported_services(path):
                if imported == package:
                    continue
                same_floor_sibling = FLOOR[imported] == floor
                if FLOOR[imported] > floor or same_floor_sibling:
                    problems.append(f"{path.relative_to(SERVICES)}:{line} imports {imported}")
    return problems


def test_imports_point_one_way_only() -> None:
    assert violations() == []


def test_the_check_catches_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: a core module importing records is reported."""
    fake = tmp_path / "services"
    for package in FLOOR:
        (fake / package).mkdir(parents=True)
    (fake / "core" / "bad.py").write_text("from records.models import Patient\n")
    (fake / "billing" / "sibling.py").write_text("import sharing.services\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "SERVICES", fake)
    assert violations() == ["core/bad.py:1 imports records", "billing/sibling.py:1 imports sharing"]
