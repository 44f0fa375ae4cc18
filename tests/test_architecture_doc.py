"""docs/architecture.md names modules that exist.

Every module it names in code marks is checked against the tree (no import):
- a path ending in ``.py`` (``services/records/selectors/patients.py``, or relative to
  the app the text is about: ``core/audit/verify.py``, ``selectors/slots.py``) is a file
  from the repository, from ``services/`` or from one of the apps;
- a bare file name (``policy.py``) is a file somewhere in the services or the tests;
- a dotted name of a service (``records.selectors.patient_get``) is a module, or a name
  defined at the top of one (a function, a class, an assignment or an import).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES_PACKAGES = (
    "core",
    "records",
    "billing",
    "sharing",
    "agenda",
    "lab",
    "carnet",
    "carnet_demo",
)
# Dotted names in the text that are not Python's.
NOT_MODULES = {
    "carnet.person_id": "the PostgreSQL setting the middleware sets",
    "carnet.purging_practice": "the PostgreSQL setting the purge of a practice sets",
}
CODE = re.compile(r"`([^`\s]+)`")
DOTTED = re.compile(r"[a-z_]+(?:\.[A-Za-z_]\w*)+")


def module_file(services: Path, dotted: str) -> Path | None:
    path = services.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defines(path: Path, name: str) -> bool:
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found = {node.name}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found = {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        else:
            continue
        if name in found:
            return True
    return False


def missing_modules(root: Path = ROOT, doc: str = "docs/architecture.md") -> list[str]:
    services = root / "services"
    bases = [root, services]
    bases += sorted(path for path in services.glob("*") if path.is_dir())
    bases += sorted(path for path in services.glob("core/*") if path.is_dir())
    file_names = {path.name for top in (services, root / "tests") for path in top.rglob("*.py")}
    problems = []
    for number, line in enumerate((root / doc).read_text().splitlines(), start=1):
        for token in CODE.findall(line):
            token = token.rstrip(",.:;").removesuffix("()")
            if token.endswith(".py"):
                if "/" in token:
                    exists = any((base / token).is_file() for base in bases)
                else:
                    exists = token in file_names
                if not exists:
                    problems.append(f"{doc}:{number} {token}: no such file")
            elif (
                DOTTED.fullmatch(token)
                and token.split(".")[0] in SERVICES_PACKAGES
                and token not in NOT_MODULES
            ):
                parts = token.split(".")
                for end in range(len(parts), 0, -1):
                    found = module_file(services, ".".join(parts[:end]))
                    if found is not None:
                        break
                if found is None or (end < len(parts) and not defines(found, parts[end])):
                    problems.append(f"{doc}:{number} {token}: no such module or name")
    return problems


def test_the_architecture_names_modules_that_exist() -> None:
    assert missing_modules() == []


def test_the_check_catches_a_module_that_does_not_exist(tmp_path: Path) -> None:
    """The rule can fail: a path, a bare file name, a dotted module and a dotted name
    that do not exist are reported; those that do, in each spelling, are not."""
    selectors = tmp_path / "services" / "records" / "selectors"
    selectors.mkdir(parents=True)
    (selectors / "__init__.py").write_text("from records.selectors.patients import patient_get\n")
    (selectors / "patients.py").write_text("def patient_get():\n    pass\n\nLIMIT = 3\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "architecture.md").write_text(
        "Reads in `services/records/selectors/patients.py`, `selectors/patients.py`,\n"
        "`records/selectors/patients.py` (`patients.py`): `records.selectors.patient_get()`,\n"
        "`records.selectors.patients.LIMIT`, `records.selectors`. Also `carnet.person_id`.\n"
        "Gone: `records/selectors/search.py`, `search.py`, `records.selectors.search_all`,\n"
        "`records.search`, `services/records/selectors.py`.\n"
    )
    assert missing_modules(tmp_path) == [
        "docs/architecture.md:4 records/selectors/search.py: no such file",
        "docs/architecture.md:4 search.py: no such file",
        "docs/architecture.md:4 records.selectors.search_all: no such module or name",
        "docs/architecture.md:5 records.search: no such module or name",
        "docs/architecture.md:5 services/records/selectors.py: no such file",
    ]
