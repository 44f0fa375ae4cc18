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


class DirectoryError(Exception):
    pass


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
        raise DirectoryError("the directory's signature is not valid")
    if verified.fingerprint != cooperative_fingerprint:
        raise DirectoryError("the directory is not signed by the cooperative's key")
    lines = signed.splitlines()
    try:
        start = lines.index("") + 1
        end = lines.index("-----BEGIN PGP SIGNATURE-----")
    except ValueError as error:
        raise DirectoryError("not a clearsigned directory") from error
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
        raise DirectoryError(f"the directory is malformed: {error}") from error
    return Directory(
        version=int(data["version"]), issued_at=str(data["issued_at"]), practices=practices
    )
