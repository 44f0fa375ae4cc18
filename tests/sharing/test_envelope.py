"""Sealed messages between practices, and the signed directory (real OpenPGP)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gnupg
import pytest

from sharing import directory
from sharing.envelope import Address, EnvelopeError, new_envelope, open_sealed, seal


def keyring(home: Path, name: str) -> tuple[gnupg.GPG, str]:
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    gpg.encoding = "utf-8"
    params = gpg.gen_key_input(
        key_type="EDDSA",
        key_curve="ed25519",
        key_usage="sign",
        subkey_type="ECDH",
        subkey_curve="cv25519",
        subkey_usage="encrypt",
        name_real=name,
        name_email=f"{name}@test.carnet",
        expire_date=0,
        no_protection=True,
    )
    return gpg, str(gpg.gen_key(params).fingerprint)


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[dict]:
    lyon, lyon_fp = keyring(tmp_path / "lyon", "lyon")
    paris, paris_fp = keyring(tmp_path / "paris", "paris")
    mallory, mallory_fp = keyring(tmp_path / "mallory", "mallory")
    paris.import_keys(lyon.export_keys(lyon_fp))
    lyon.import_keys(paris.export_keys(paris_fp))
    mallory.import_keys(paris.export_keys(paris_fp))
    yield {"lyon": (lyon, lyon_fp), "paris": (paris, paris_fp), "mallory": (mallory, mallory_fp)}
    for home in tmp_path.iterdir():
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


A = Address("lyon", "cabinet-a")
B = Address("paris", "cabinet-b")


def open_at_paris(keys: dict, text: str, now: datetime | None = None):
    paris, _fp = keys["paris"]
    _lyon, lyon_fp = keys["lyon"]
    return open_sealed(
        paris,
        text,
        known_senders={lyon_fp: ("lyon", "cabinet-a")},
        local_practices={("paris", "cabinet-b")},
        now=now,
    )


def sealed_from_lyon(keys: dict, **payload: object) -> str:
    lyon, lyon_fp = keys["lyon"]
    _paris, paris_fp = keys["paris"]
    envelope = new_envelope(kind="share", sender=A, recipient=B, payload=dict(payload))
    return seal(lyon, envelope, signer=lyon_fp, recipient_fingerprint=paris_fp)


def code_of(call) -> str:
    with pytest.raises(EnvelopeError) as error:
        call()
    return error.value.code


def test_a_sealed_message_opens_for_its_recipient_only(keys: dict) -> None:
    text = sealed_from_lyon(keys, note="Bonjour")
    assert "Bonjour" not in text
    opened = open_at_paris(keys, text)
    assert opened.envelope.payload == {"note": "Bonjour"}
    assert opened.envelope.sender == A


def test_each_failure_has_its_own_code(keys: dict) -> None:
    text = sealed_from_lyon(keys)
    lines = text.splitlines()
    middle = len(lines) // 2
    flipped = lines[middle][:5] + ("A" if lines[middle][5] != "A" else "B") + lines[middle][6:]
    assert (
        code_of(
            lambda: open_at_paris(keys, "\n".join([*lines[:middle], flipped, *lines[middle + 1 :]]))
        )
        == "tampered"
    )
    mallory, mallory_fp = keys["mallory"]
    _paris, paris_fp = keys["paris"]
    forged = seal(
        mallory,
        new_envelope(kind="share", sender=A, recipient=B, payload={}),
        signer=mallory_fp,
        recipient_fingerprint=paris_fp,
    )
    assert code_of(lambda: open_at_paris(keys, forged)) == "unknown_sender"
    assert code_of(lambda: open_at_paris(keys, "not a message")) == "undecryptable"
    later = datetime.now(UTC) + timedelta(days=8)
    assert code_of(lambda: open_at_paris(keys, text, now=later)) == "expired"


def test_the_directory_is_trusted_only_with_the_cooperatives_signature(
    keys: dict, tmp_path: Path
) -> None:
    coop, coop_fp = keyring(tmp_path / "coop", "cooperative")
    lyon, lyon_fp = keys["lyon"]
    document = directory.build(
        cooperative="Carnet",
        version=1,
        nodes=[
            {
                "name": "lyon",
                "gateway": "http://127.0.0.1:1/",
                "practices": [
                    {
                        "slug": "cabinet-a",
                        "name": "Cabinet A",
                        "fingerprints": [lyon_fp],
                        "public_keys": lyon.export_keys(lyon_fp),
                    }
                ],
            }
        ],
    )
    signed = directory.sign(coop, document, cooperative_fingerprint=coop_fp)
    paris, _fp = keys["paris"]
    paris.import_keys(coop.export_keys(coop_fp))
    parsed = directory.verify(paris, signed, cooperative_fingerprint=coop_fp)
    assert parsed.find("lyon", "cabinet-a").current_fingerprint == lyon_fp
    assert parsed.senders() == {lyon_fp: ("lyon", "cabinet-a")}
    with pytest.raises(directory.DirectoryError):
        directory.verify(
            paris, signed.replace("Cabinet A", "Cabinet Z"), cooperative_fingerprint=coop_fp
        )
    with pytest.raises(directory.DirectoryError):
        directory.verify(paris, signed, cooperative_fingerprint=lyon_fp)
