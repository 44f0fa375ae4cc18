"""The source of the version running here, for everyone who uses it (GNU AGPL, section 13).

Every page links to it (core/jinja2/core/layout.html). By default the node serves its
own code: an archive of the packages it runs, made once per process from the installed
files, so a node running changed code offers that changed code. A node whose source is
published elsewhere says where with ``CARNET_SOURCE_URL`` (``{version}`` is replaced by
the running version).
"""

from __future__ import annotations

import io
import tarfile
from functools import cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch
from django.views.decorators.http import require_GET

from core import links

DISTRIBUTION = "carnet"
# Left out of the archive: compiled bytecode, nothing else (templates, translations,
# static files and data are part of the source).
SKIPPED_DIRS = {"__pycache__"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@cache
def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "0+unknown"


def source_url() -> str:
    """Where the footer's link points: the published source, or this node's archive."""
    configured: str = getattr(settings, "CARNET_SOURCE_URL", "")
    if configured:
        return configured.replace("{version}", version())
    try:
        return links.url("source")
    except NoReverseMatch:  # the gateway: no page of its own links to anything
        return ""


def _packages() -> list[tuple[str, Path]]:
    """The top-level packages of the distribution, where they are installed."""
    try:
        names = (metadata.distribution(DISTRIBUTION).read_text("top_level.txt") or "").split()
    except metadata.PackageNotFoundError:
        names = []
    found = []
    for name in sorted(set(names)):
        spec = find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found.append((name, Path(next(iter(spec.submodule_search_locations)))))
    return found


def _licence_text() -> str | None:
    root = Path(settings.BASE_DIR) / "LICENSE"
    if root.is_file():
        return root.read_text(encoding="utf-8")
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    return dist.read_text("licenses/LICENSE") or dist.read_text("LICENSE")


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


@cache
def source_archive() -> bytes:
    """A .tar.gz of the running code: each package, the licence, pyproject.toml when the
    node runs from a source tree. Made once: the code does not change while it runs."""
    prefix = f"carnet-{version()}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        licence = _licence_text()
        if licence is not None:
            _add_bytes(archive, f"{prefix}/LICENSE", licence.encode())
        pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
        if pyproject.is_file():
            archive.add(pyproject, f"{prefix}/pyproject.toml")
        for name, path in _packages():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path)
                if not file.is_file() or file.suffix in SKIPPED_SUFFIXES:
                    continue
                if SKIPPED_DIRS.intersection(relative.parts):
                    continue
                archive.add(file, f"{prefix}/services/{name}/{relative}", recursive=False)
    return buffer.getvalue()


@login_not_required
@require_GET
def source(request: HttpRequest) -> HttpResponse:
    """The archive; public like the code itself (it holds no data and no secret: the
    node's keys, database and files live under its var directory, never in a package)."""
    response = HttpResponse(source_archive(), content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="carnet-{version()}.tar.gz"'
    return response
