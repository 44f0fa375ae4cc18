"""Imports point one way only: carnet -> billing, sharing -> records -> core.

A service may import a lower floor, never a higher one nor (billing/sharing) a sibling.
A service above records reads and writes the record only through its public modules
(selectors, services, its way to the policy, its signals): it never imports
``records.models`` (nor any other module of records) and never queries a class of the
record it names (``Patient.objects``). This test reads the source (no import side effects) and
fails naming the offending line.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "services"

FLOOR = {"core": 0, "records": 1, "billing": 2, "sharing": 2, "agenda": 2, "carnet": 3}

# A service's models are its own. The services of the second floor use the record's
# public modules only: reads in selectors, writes in services, the policy's decisions on
# the record (records.access) and the record's signals.
PUBLIC = {"records": ("records.selectors", "records.services", "records.access", "records.signals")}
KEEP_OUT = ("billing", "sharing", "agenda")
MANAGERS = {"objects", "_default_manager", "_base_manager"}


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file imports, by its full name (``from records import models``
    imports ``records.models``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            for alias in node.names:
                found.append((node.lineno, f"{node.module}.{alias.name}"))
    return found


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


def is_public(module: str) -> bool:
    public = PUBLIC.get(module.split(".")[0])
    if public is None or module in PUBLIC:
        return True  # not a guarded service, or the package itself (``from records import``)
    return any(module == name or module.startswith(name + ".") for name in public)


def private_imports(path: Path, tree: ast.AST) -> list[str]:
    """Imports of another service's private modules (``records.models`` and below)."""
    problems = []
    for line, module in imported_modules(tree):
        if not is_public(module):
            private = ".".join(module.split(".")[:2])
            problems.append(f"{path.relative_to(SERVICES)}:{line} imports {private}")
    return list(dict.fromkeys(problems))


def model_queries(path: Path, tree: ast.AST) -> list[str]:
    """A class named from a lower service (``from records.selectors import Patient``)
    queried directly (``Patient.objects``): a read around that service's selectors."""
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        if node.module.split(".")[0] in PUBLIC
        for alias in node.names
    }
    return [
        f"{path.relative_to(SERVICES)}:{node.lineno} queries {node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in MANAGERS
        and isinstance(node.value, ast.Name)
        and node.value.id in names
    ]


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
            if package in KEEP_OUT:
                tree = ast.parse(path.read_text(), filename=str(path))
                problems += private_imports(path, tree) + model_queries(path, tree)
    return problems


def test_imports_point_one_way_only() -> None:
    assert violations() == []


def fake_services(tmp_path: Path, monkeypatch) -> Path:
    fake = tmp_path / "services"
    for package in FLOOR:
        (fake / package).mkdir(parents=True)
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "SERVICES", fake)
    return fake


def test_the_check_catches_an_upward_import(tmp_path: Path, monkeypatch) -> None:
    """The rule can fail: a core module importing records is reported."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "core" / "bad.py").write_text("from records.models import Patient\n")
    (fake / "billing" / "sibling.py").write_text("import sharing.services\n")
    assert violations() == ["core/bad.py:1 imports records", "billing/sibling.py:1 imports sharing"]


def test_the_check_forbids_records_models_in_sharing_and_billing(
    tmp_path: Path, monkeypatch
) -> None:
    """The rule can fail: sharing or billing importing the record's models, in any
    spelling, another private module of records, or querying a model it names, is
    reported; the selectors, services, policy and signals are not."""
    fake = fake_services(tmp_path, monkeypatch)
    (fake / "sharing" / "fhir").mkdir()
    (fake / "sharing" / "fhir" / "bad.py").write_text(
        "from records.selectors import patient_get\nfrom records.models import Patient\n"
    )
    (fake / "sharing" / "deep.py").write_text("from records.models.clinical import EntryStatus\n")
    (fake / "sharing" / "plain.py").write_text("import records.models\n")
    (fake / "billing" / "bad.py").write_text("from records import models, selectors\n")
    (fake / "sharing" / "printing.py").write_text("from records.printing import record_pdf\n")
    (fake / "billing" / "query.py").write_text(
        "from records.selectors import Patient\n\nPatient.objects.filter(pk=1)\n"
    )
    (fake / "billing" / "good.py").write_text(
        "from records import access, selectors, services\n"
        "from records.selectors import Patient, patient_get\nfrom records.signals import x\n"
        "from billing.models import Invoice\n\nInvoice.objects.all()\n"
    )
    (fake / "records" / "own.py").write_text("from records.models import Patient\n")
    assert violations() == [
        "billing/bad.py:1 imports records.models",
        "billing/query.py:3 queries Patient.objects",
        "sharing/deep.py:1 imports records.models",
        "sharing/fhir/bad.py:2 imports records.models",
        "sharing/plain.py:1 imports records.models",
        "sharing/printing.py:1 imports records.printing",
    ]
