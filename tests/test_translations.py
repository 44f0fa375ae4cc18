"""Carnet speaks French first: every string the code and the templates mark for
translation has its French in the catalogue, none is left fuzzy (a guess gettext will
not show), and the compiled catalogue the server reads is the one in the source.

The extraction runs Django's `makemessages` on a copy of the sources, so the test never
writes into the working tree; gettext's own tools (installed by .ci/run) read the result.
"""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1] / "services"
CATALOGUE = Path("carnet") / "locale" / "fr" / "LC_MESSAGES"


def entries(po: Path, *flags: str) -> list[str]:
    """The msgids msgattrib selects with these flags (header left out)."""
    out = subprocess.run(
        ["msgattrib", *flags, "--no-wrap", "--no-location", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        line[len("msgid ") :]
        for line in out.splitlines()
        if line.startswith("msgid ") and line != 'msgid ""'
    ]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("msgattrib") and os.environ.get("CI") != "true":
        pytest.skip("gettext is not installed (apt-get install gettext)")
    copy = tmp_path_factory.mktemp("sources") / "services"
    shutil.copytree(
        SERVICES, copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "static")
    )
    # The copy comes first on the path, so its settings (and LOCALE_PATHS) are the copy's.
    env = {**os.environ, "PYTHONPATH": str(copy), "DJANGO_SETTINGS_MODULE": "carnet.settings"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--ignore", "*/migrations/*"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    return copy / CATALOGUE / "django.po"


def test_every_marked_string_has_its_french(extracted: Path) -> None:
    untranslated = entries(extracted, "--untranslated", "--no-obsolete")
    assert untranslated == [], (
        "strings without French (run `make messages`, then translate them in "
        f"services/{CATALOGUE}/django.po): {untranslated}"
    )


def test_no_french_is_left_as_a_fuzzy_guess(extracted: Path) -> None:
    fuzzy = entries(extracted, "--only-fuzzy", "--no-obsolete")
    assert fuzzy == [], f"fuzzy entries (gettext ignores them; check and unflag): {fuzzy}"


def test_the_compiled_catalogue_is_the_source_catalogue(extracted: Path, tmp_path: Path) -> None:
    po, mo = SERVICES / CATALOGUE / "django.po", SERVICES / CATALOGUE / "django.mo"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(po)], check=True)
    with compiled.open("rb") as fresh, mo.open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        actual = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    stale = sorted(str(k) for k in expected.keys() ^ actual.keys())
    assert not stale, f"django.mo is stale (run `make messages`): {stale[:10]}"
    assert expected == actual


def test_every_string_of_the_jinja2_templates_is_in_the_catalogue(extracted: Path) -> None:
    # `makemessages` reads Jinja2 templates as Django's: a call it cannot parse, such as
    # _("... %(name)s ...", name=...), is not extracted, and a later run would turn its
    # French into an obsolete entry. Such a string must be declared in Python.
    said = set()
    for template in SERVICES.glob("*/jinja2/**/*.html"):
        said |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', template.read_text(encoding="utf-8")))
    assert said, "no Jinja2 template found"
    catalogue = {json.loads(msgid) for msgid in entries(extracted, "--no-obsolete")}
    missing = sorted(said - catalogue)
    assert not missing, f"Jinja2 strings makemessages does not extract: {missing}"
