"""The cooperative's directory: which nodes exist, where their gateways are, which
practices they host and their public keys. It is a JSON document signed by the
cooperative's key and copied to every node: no central server is needed to look up a
recipient.

    {"cooperative": "...", "version": 3, "issued_at": "...",
     "nodes": [{"name": "lyon", "gateway": "https://lyon.example/",
                "practices": [{"slug": "...", "name": "...",
                               "fingerprints": ["NEW", "PREVIOUS"],
                               "public_keys": "-----BEGIN PGP PUBLIC KEY BLOCK-----..."}]}]}

The first fingerprint of a practice is its current key (used to encrypt to it); the
others are previous keys still accepted as signers during a rotation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import gnupg
from django.utils.translation import gettext_lazy as _

# Why a directory is refused, in the reader's language (the page shows it; the command
# prints the English message the error was raised with).
REASONS = {
    "not_configured": _(
        "This node does not know the cooperative's key fingerprint"
        " (CARNET_COOPERATIVE_FINGERPRINT): ask the node's administrator."
    ),
    "no_key": _("The cooperative's public key is not on this node: give its file."),
    "wrong_key": _("The key given is not the cooperative's key."),
    "bad_signature": _(
        "The signature is not valid: the file was not signed, or was altered after signing."
    ),
    "not_cooperative": _("The file is signed, but not by the cooperative's key."),
    "not_clearsigned": _("This file is not a signed directory."),
    "malformed": _("The directory is signed but its content cannot be read."),
    "older": _("This directory is older than the one installed on this node."),
}


class DirectoryError(Exception):
    def __init__(self, message: str, code: str = "malformed") -> None:
        super().__init__(message)
        self.code = code

    @property
    def reason(self) -> str:
        """The refusal in the reader's language."""
        return str(REASONS.get(self.code, REASONS["malformed"]))


@dataclass(frozen=True)
class PracticeListing:
    node: str
    gateway: str
    slug: str
    name: str
    fingerprints: tuple[str, ...]
    public_keys: str

    @property
    def current_fingerprint(self) -> str:
        return self.fingerprints[0]


@dataclass
class Directory:
    version: int
    issued_at: str
    practices: list[PracticeListing] = field(default_factory=list)

    def find(self, node: str, slug: str) -> PracticeListing | None:
        return next((p for p in self.practices if (p.node, p.slug) == (node, slug)), None)

    def senders(self) -> dict[str, tuple[str, str]]:
        """Every accepted signing key -> (node, practice)."""
        return {fp: (p.node, p.slug) for p in self.practices for fp in p.fingerprints}


def build(*, cooperative: str, version: int, nodes: list[dict[str, Any]]) -> str:
    document = {
        "cooperative": cooperative,
        "version": version,
        "issued_at": datetime.now(UTC).isoformat(),
        "nodes": nodes,
    }
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)


def sign(gpg: gnupg.GPG, document: str, *, cooperative_fingerprint: str) -> str:
    signed = gpg.sign(document, keyid=cooperative_fingerprint, clearsign=True)
    if not signed.data:
        raise DirectoryError(f"signing failed: {signed.stderr}")
    return str(signed)


def verify(gpg: gnupg.GPG, signed: str, *, cooperative_fingerprint: str) -> Directory:
    """Check the cooperative's signature and parse. ``gpg`` must hold the cooperative's
    public key; ``cooperative_fingerprint`` is the one this node trusts."""
    verified = gpg.verify(signed)
    if not verified.valid:
        raise DirectoryError("the directory's signature is not valid", "bad_signature")
    if verified.fingerprint != cooperative_fingerprint:
        raise DirectoryError(
            "the directory is not signed by the cooperative's key", "not_cooperative"
        )
    lines = signed.splitlines()
    try:
        start = lines.index("") + 1
        end = lines.index("-----BEGIN PGP SIGNATURE-----")
    except ValueError as error:
        raise DirectoryError("not a clearsigned directory", "not_clearsigned") from error
    body = "\n".join(line[2:] if line.startswith("- ") else line for line in lines[start:end])
    try:
        data = json.loads(body)
        practices = [
            PracticeListing(
                node=str(node["name"]),
                gateway=str(node["gateway"]),
                slug=str(practice["slug"]),
                name=str(practice["name"]),
                fingerprints=tuple(practice["fingerprints"]),
                public_keys=str(practice["public_keys"]),
            )
            for node in data["nodes"]
            for practice in node["practices"]
        ]
    except (ValueError, KeyError, TypeError) as error:
        raise DirectoryError(f"the directory is malformed: {error}", "malformed") from error
    try:
        return Directory(
            version=int(data["version"]), issued_at=str(data["issued_at"]), practices=practices
        )
    except (ValueError, KeyError, TypeError) as error:
        raise DirectoryError(f"the directory is malformed: {error}", "malformed") from error
