"""The node keys an anchor may be signed by: the current one, and the retired ones that
a chain of rotation statements links to it.

Trust starts from the secret key in the node's keyring (the node key). A retired key is
trusted only if the statement of the rotation that replaced it names it and is signed
by it and by its successor, itself trusted. A row added to ``audit_node_key`` by
someone without the node key therefore proves nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from core import openpgp
from core.audit.models import NodeKey


@dataclass(frozen=True)
class CurrentKey:
    fingerprint: str
    created_at: datetime | None
    rotations: int  # how many keys it replaced


def statement_problem(row: NodeKey, keyring: openpgp.Keyring) -> str | None:
    """Why this key's rotation statement does not prove its predecessor (None: it does)."""
    for signed_text, signer in (
        (row.signed_by_previous, row.previous_fingerprint),
        (row.signed_by_self, row.fingerprint),
    ):
        signed = keyring.signed_body(signed_text) if signed_text else None
        if signed is None or signed.fingerprint != signer:
            return f"the rotation statement is not signed by {signer}"
        if signed.text != row.statement:
            return "the rotation statement differs from its signed text"
    facts = json.loads(row.statement)
    if (facts.get("previous"), facts.get("new")) != (row.previous_fingerprint, row.fingerprint):
        return "the rotation statement names other keys"
    return None


def trusted_fingerprints(keyring: openpgp.Keyring | None = None) -> set[str]:
    """The current node key and every retired key proven by the rotation statements."""
    keyring = keyring or openpgp.node_keyring()
    current = keyring.secret_fingerprint()
    if current is None:
        return set()
    rows = {row.fingerprint: row for row in NodeKey.objects.all()}
    # Old anchors are verified with public keys: put back any the keyring lost.
    for known in rows.values():
        if not keyring.has_public(known.fingerprint):
            keyring.import_public(known.public_key)
    trusted = {current}
    row = rows.get(current)
    while row is not None and row.previous_fingerprint:
        if row.previous_fingerprint in trusted or statement_problem(row, keyring):
            break
        trusted.add(row.previous_fingerprint)
        row = rows.get(row.previous_fingerprint)
    return trusted


def current_key(keyring: openpgp.Keyring | None = None) -> CurrentKey | None:
    """The node key now (its fingerprint and age), without creating it."""
    keyring = keyring or openpgp.node_keyring()
    fingerprint = keyring.secret_fingerprint()
    if fingerprint is None:
        return None
    row = NodeKey.objects.filter(fingerprint=fingerprint).first()
    created = row.created_at if row else keyring.created_at(fingerprint)
    return CurrentKey(
        fingerprint=fingerprint,
        created_at=created,
        rotations=NodeKey.objects.exclude(previous_fingerprint="").count(),
    )


def node_keys() -> list[NodeKey]:
    """Every recorded node key, oldest first."""
    return list(NodeKey.objects.order_by("created_at", "id"))
