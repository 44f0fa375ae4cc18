"""Anchors: the chain heads, signed with the node's OpenPGP key.

An anchor printed or kept off the node proves what the trail contained at that moment:
whoever rewrites the trail afterwards cannot produce a matching signature. Each anchor is
checked with the key whose fingerprint it names: the current node key, or a retired one
that the rotation statements link to it (``core.audit.selectors.node_keys``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from core import openpgp
from core.audit.models import AuditAnchor, AuditChain, AuditEvent
from core.audit.report import Problem, Report
from core.audit.selectors.node_keys import trusted_fingerprints


def create_anchor() -> AuditAnchor:
    with transaction.atomic():
        heads = {
            str(head.chain): {"seq": head.seq, "hash": head.hash}
            for head in AuditChain.objects.order_by("chain")
        }
        payload = json.dumps(
            {"node_heads": heads, "signed_at": timezone.now().isoformat()},
            sort_keys=True,
            indent=1,
        )
        signed = openpgp.node_keyring().clearsign(payload)
        return AuditAnchor.objects.create(
            heads=heads, signed_text=signed.text, fingerprint=signed.fingerprint
        )


# The node's chain records a practice deleted after it left the cooperative
# (core.practices.services.leaving), with its chain's last event: that chain is gone
# from the node (the practice took it in its export), and the anchors signed before
# name heads of it that are no longer here.
PRACTICE_DELETED = "cooperative.practice.deleted"


def deleted_chains() -> dict[int, int]:
    """Chain -> its last sequence number, for each practice deleted from the node."""
    rows = AuditEvent.objects.filter(chain=0, action=PRACTICE_DELETED).values_list(
        "details", flat=True
    )
    return {int(details["chain"]): int(details["last_seq"]) for details in rows}


def anchored_positions() -> set[tuple[int, int]]:
    """(chain, seq) of every anchored head, as stored (the signature is checked later)."""
    positions = set()
    for heads in AuditAnchor.objects.values_list("heads", flat=True):
        for chain, head in heads.items():
            positions.add((int(chain), int(head["seq"])))
    return positions


def check_anchors(seen: dict[tuple[int, int], str], report: Report) -> Iterator[Problem]:
    anchors = list(AuditAnchor.objects.order_by("id"))
    if not anchors:
        return
    deleted = deleted_chains()
    keyring = openpgp.node_keyring()
    trusted = trusted_fingerprints(keyring)
    for anchor in anchors:
        report.anchors_checked += 1
        if anchor.fingerprint not in trusted:
            yield Problem(
                None,
                -1,
                None,
                f"anchor {anchor.pk}: signed by {anchor.fingerprint},"
                " which is not a node key (neither the current one nor a retired one)",
            )
            continue
        signed = keyring.signed_body(anchor.signed_text)
        if signed is None or signed.fingerprint != anchor.fingerprint:
            yield Problem(None, -1, None, f"anchor {anchor.pk}: signature is not valid")
            continue
        heads = json.loads(signed.text)["node_heads"]
        if heads != anchor.heads:
            yield Problem(
                None, -1, None, f"anchor {anchor.pk}: stored heads differ from signed ones"
            )
            continue
        for chain_text, head in heads.items():
            chain = int(chain_text)
            if chain in deleted and head["seq"] <= deleted[chain]:
                continue  # the practice left with this part of its chain
            if head["seq"] and seen.get((chain, head["seq"])) != head["hash"]:
                yield Problem(
                    None,
                    chain,
                    head["seq"],
                    f"anchor {anchor.pk} signed a different event at this position:"
                    " the trail was rewritten after it was anchored",
                )
