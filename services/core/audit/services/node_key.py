"""Rotating the node key without losing the past.

``rotate_node_key``: anchor the trail with the current key, make a new key, sign a
rotation statement (node, previous and new fingerprints, time) with both keys, record
both public keys in ``audit_node_key`` (the old one retired), record the rotation in
the node's audit chain, delete the old key's SECRET half from the keyring (a retired
key can no longer sign anything; its public half stays to verify the anchors it
signed), and anchor again with the new key. Runs as the owner role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import openpgp
from core.audit.anchor import create_anchor
from core.audit.models import AuditAnchor, NodeKey
from core.audit.services import record_event


class NoNodeKey(Exception):
    """There is no node key to rotate (make one with `carnet node_key`)."""


@dataclass(frozen=True)
class Rotation:
    previous: str
    new: str
    statement: str
    anchor_before: AuditAnchor
    anchor_after: AuditAnchor


def _ensure_recorded(keyring: openpgp.Keyring, fingerprint: str) -> NodeKey:
    """The row of a key made before any rotation (`carnet node_key`, the first anchor)."""
    row = NodeKey.objects.filter(fingerprint=fingerprint).first()
    if row is None:
        row = NodeKey.objects.create(
            fingerprint=fingerprint,
            public_key=keyring.public_key(fingerprint),
            created_at=keyring.created_at(fingerprint) or timezone.now(),
        )
    return row


def rotate_node_key(*, actor_label: str = "carnet node_key rotate") -> Rotation:
    keyring = openpgp.node_keyring()
    previous = keyring.secret_fingerprint()
    if previous is None:
        raise NoNodeKey
    # Everything up to now is signed by the key that is being retired.
    anchor_before = create_anchor()
    new = keyring.generate_key(f"Carnet node {settings.CARNET_NODE_NAME}", openpgp.node_email())
    now = timezone.now()
    statement = json.dumps(
        {
            "node": settings.CARNET_NODE_NAME,
            "previous": previous,
            "new": new,
            "rotated_at": now.isoformat(),
            "purpose": "carnet node key rotation: the previous key is retired",
        },
        sort_keys=True,
        indent=1,
    )
    by_previous = keyring.clearsign_with(statement, previous)
    by_new = keyring.clearsign_with(statement, new)
    try:
        with transaction.atomic():
            old_row = _ensure_recorded(keyring, previous)
            old_row.retired_at = now
            old_row.save(update_fields=["retired_at"])
            NodeKey.objects.create(
                fingerprint=new,
                public_key=keyring.public_key(new),
                created_at=now,
                previous_fingerprint=previous,
                statement=statement,
                signed_by_previous=by_previous.text,
                signed_by_self=by_new.text,
            )
            record_event(
                "node_key.rotated",
                actor_label=actor_label,
                practice_id=None,
                target=f"node_key:{new}",
                details={"previous": previous, "new": new},
            )
    except BaseException:
        # Nothing recorded: the new key must not become the node's key.
        keyring.delete_secret(new)
        raise
    # Only once the rotation is recorded: the retired key can no longer sign.
    keyring.delete_secret(previous)
    anchor_after = create_anchor()
    return Rotation(previous, new, statement, anchor_before, anchor_after)
