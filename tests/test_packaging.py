"""Every file a node needs at run time is in the package a node installs.

A node runs Carnet from its wheel (infra/ansible/build-release.sh), not from this tree:
a template, a static file or a translation that setuptools' ``package-data`` does not
name is missing there, and the page that needs it fails on the node only. Every file
under ``services/`` that is not Python must match one of the patterns, relative to the
package it lies in (or to one above it: setuptools applies the patterns to each)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "services"
NOT_SHIPPED = {".py", ".pyc", ".pyi"}


def patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(config["tool"]["setuptools"]["package-data"]["*"])


def matches(relative: Path, pattern: str) -> bool:
    """setuptools' glob: ``dir/**/*`` is every file under ``dir``; ``*.sql`` a file of
    the package itself."""
    if pattern.endswith("/**/*"):
        return relative.parts[0] == pattern.removesuffix("/**/*") and len(relative.parts) > 1
    return len(relative.parts) == 1 and relative.match(pattern)


def packages_of(path: Path) -> list[Path]:
    """The package directories the file lies in, innermost first."""
    found = []
    for parent in path.parents:
        if parent == SERVICES:
            break
        if (parent / "__init__.py").is_file():
            found.append(parent)
    return found


def tracked_files() -> list[Path]:
    """The files of ``services/`` in the source tree (not what a build left there)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "services"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def unshipped(files: list[Path] | None = None) -> list[str]:
    missing = []
    for path in sorted(tracked_files() if files is None else files):
        if path.suffix in NOT_SHIPPED:
            continue
        if not any(
            matches(path.relative_to(package), pattern)
            for package in packages_of(path)
            for pattern in patterns()
        ):
            missing.append(str(path.relative_to(SERVICES)))
    return missing


def test_every_template_static_file_and_translation_is_in_the_package() -> None:
    assert unshipped() == []


def test_the_jinja2_templates_are_shipped() -> None:
    """The layout every page draws is one of them (core/jinja2/core/layout.html)."""
    layout = SERVICES / "core" / "jinja2" / "core" / "layout.html"
    assert any(matches(layout.relative_to(SERVICES / "core"), p) for p in patterns())


def test_the_check_finds_a_file_no_pattern_names() -> None:
    core = SERVICES / "core"
    assert unshipped([core / "jinja3" / "core" / "layout.html", core / "jinja.py"]) == [
        "core/jinja3/core/layout.html"
    ]
    assert matches(Path("templates/core/base.html"), "templates/**/*")
    assert matches(Path("schema.sql"), "*.sql")
    assert not matches(Path("jinja3/core/layout.html"), "templates/**/*")
    assert not matches(Path("templates"), "templates/**/*")
    assert not matches(Path("sql/schema.sql"), "*.sql")
