"""The directory commands: a practice's listing, key rotation, verification, import."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import gnupg
import pytest
from django.core.management import CommandError, call_command

from core import tenancy
from sharing.models import DirectoryEntry
from tests.fixtures import World


def listing(capsys, *extra: str) -> dict:
    call_command(
        "directory",
        "listing",
        "--practice",
        "cabinet-a",
        "--gateway",
        "http://127.0.0.1:9/",
        *extra,
    )
    return json.loads(capsys.readouterr().out)


def test_listing_rotation_verification_and_import(world: World, tmp_path: Path, capsys) -> None:
    tenancy.activate(world.practice_a.pk)
    first = listing(capsys)
    listing_file = tmp_path / "a.json"
    listing_file.write_text(json.dumps(first))
    coop_home = tmp_path / "coop"
    coop_home.mkdir(mode=0o700)
    coop = gnupg.GPG(gnupghome=str(coop_home))
    coop.encoding = "utf-8"
    params = coop.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        name_real="coop",
        name_email="c@x",
        expire_date=0,
        no_protection=True,
    )
    coop_fp = str(coop.gen_key(params).fingerprint)
    key = tmp_path / "coop.asc"
    key.write_text(coop.export_keys(coop_fp))

    def sign(version: int, output: Path) -> None:
        call_command(
            "directory",
            "sign",
            "--gnupg-home",
            str(coop_home),
            "--fingerprint",
            coop_fp,
            "--version",
            str(version),
            "--output",
            str(output),
            str(listing_file),
        )
        capsys.readouterr()

    signed = tmp_path / "directory.asc"
    sign(1, signed)
    call_command(
        "directory",
        "verify",
        str(signed),
        "--cooperative-key",
        str(key),
        "--cooperative-fingerprint",
        coop_fp,
    )
    assert "Valid directory version 1" in capsys.readouterr().out
    tampered = tmp_path / "tampered.asc"
    tampered.write_text(signed.read_text().replace("cabinet-a", "cabinet-z"))
    with pytest.raises(CommandError, match="NOT valid"):
        call_command(
            "directory",
            "verify",
            str(tampered),
            "--cooperative-key",
            str(key),
            "--cooperative-fingerprint",
            coop_fp,
        )
    with pytest.raises(CommandError, match="not configured"):
        call_command("directory", "import", str(signed), "--cooperative-key", str(key))

    call_command(
        "directory",
        "import",
        str(signed),
        "--cooperative-key",
        str(key),
        "--cooperative-fingerprint",
        coop_fp,
    )
    capsys.readouterr()
    assert DirectoryEntry.objects.get().fingerprints == first["fingerprints"]

    rotated = listing(capsys, "--rotate")
    assert rotated["fingerprints"][0] != first["fingerprints"][0]
    assert first["fingerprints"][0] in rotated["fingerprints"]  # accepted for messages in flight

    # A directory older than the installed one is refused (no rollback to old keys).
    older = tmp_path / "older.asc"
    sign(0, older)
    with pytest.raises(CommandError, match="older"):
        call_command(
            "directory",
            "import",
            str(older),
            "--cooperative-key",
            str(key),
            "--cooperative-fingerprint",
            coop_fp,
        )
    subprocess.run(["gpgconf", "--homedir", str(coop_home), "--kill", "all"], check=False)
