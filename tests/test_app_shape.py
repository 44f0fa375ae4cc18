"""Every app has the written shape (CONTRIBUTING.md, "The shape of an app"): its writes in
a ``services/`` package, its reads in a ``selectors/`` package, its tests under
``tests/<app>/``. This test reads the tree (no import) and names what is missing."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What cannot follow the shape yet, and why.
EXEMPT = {
    "carnet": "the composition root: settings, URLs, the command line; no data of its own",
    "core.documents": "a tool (HTML to PDF) that reads and writes nothing",
    "carnet_demo": "tools, not the product: the demo and benchmark generators, which write"
    " through the product's services (or as the tables' owner) and own no data",
}


def apps(root: Path) -> dict[str, Path]:
    """Each Django app (a package with ``apps.py``) by its dotted name; the kernel
    ``core`` is no app itself but holds several."""
    found = {}
    for config in sorted((root / "services").glob("*/apps.py")) + sorted(
        (root / "services").glob("core/*/apps.py")
    ):
        package = config.parent
        found[".".join(package.relative_to(root / "services").parts)] = package
    return found


def shape_problems(root: Path = ROOT) -> list[str]:
    problems = []
    for name, package in apps(root).items():
        if name in EXEMPT:
            continue
        for part in ("services", "selectors"):
            if not (package / part / "__init__.py").is_file():
                problems.append(f"{name}: no {part}/ package")
        tests = root / "tests" / name.split(".")[0]
        if not tests.is_dir():
            problems.append(f"{name}: no tests/{name.split('.')[0]}/")
    for name in EXEMPT:
        if name not in apps(root):
            problems.append(f"{name}: exempt but no such app")
    return problems


def test_every_app_has_the_written_shape() -> None:
    assert shape_problems() == []


def test_the_check_catches_an_app_out_of_shape(tmp_path: Path) -> None:
    """The rule can fail: a selectors.py module instead of a package, a missing services
    package, an app without tests, a kernel app without selectors are reported; a
    well-shaped app and the exempt ones are not."""

    def app(path: str, *parts: str) -> None:
        package = tmp_path / "services" / path
        package.mkdir(parents=True)
        (package / "apps.py").write_text("")
        for part in parts:
            if part.endswith(".py"):
                (package / part).write_text("")
            else:
                (package / part).mkdir()
                (package / part / "__init__.py").write_text("")

    app("good", "services", "selectors")
    app("flat", "services", "selectors.py")
    app("untested", "services", "selectors")
    app("core/kernelapp", "services.py", "selectors")
    app("carnet")
    app("carnet_demo")
    app("core/documents")
    (tmp_path / "services" / "core" / "__init__.py").write_text("")
    for tested in ("good", "flat", "core", "carnet", "carnet_demo"):
        (tmp_path / "tests" / tested).mkdir(parents=True)
    assert shape_problems(tmp_path) == [
        "flat: no selectors/ package",
        "untested: no tests/untested/",
        "core.kernelapp: no services/ package",
    ]
