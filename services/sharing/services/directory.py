"""Installing the cooperative's signed directory, and this node's listing of one of its
practices (creating the practice's key if it has none)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from core import openpgp
from core.audit.services import record_event
from core.practices.models import Practice
from sharing import directory as directory_document
from sharing import keys
from sharing.models import DirectoryEntry
from sharing.selectors.directory import node_name


@transaction.atomic
def directory_import(
    signed: str, *, cooperative_key: str, cooperative_fingerprint: str = ""
) -> int:
    """Verify the directory with the cooperative's public key and store it (replaces the
    previous copy). Only the cooperative's known fingerprint is trusted, and a directory
    older than the one installed is refused. Imports the practices' public keys."""
    trusted = (cooperative_fingerprint or settings.CARNET_COOPERATIVE_FINGERPRINT).replace(" ", "")
    if not trusted:
        raise directory_document.DirectoryError(
            "the cooperative's fingerprint is not configured (CARNET_COOPERATIVE_FINGERPRINT)"
        )
    gpg = openpgp.node_keyring().gpg
    imported = gpg.import_keys(cooperative_key)
    if trusted not in (imported.fingerprints or []) and not gpg.list_keys(keys=[trusted]):
        raise directory_document.DirectoryError("the key given is not the cooperative's key")
    parsed = directory_document.verify(gpg, signed, cooperative_fingerprint=trusted)
    installed = DirectoryEntry.objects.order_by("-directory_version").first()
    if installed is not None and parsed.version < installed.directory_version:
        raise directory_document.DirectoryError(
            f"this directory (version {parsed.version}) is older than the installed one"
            f" (version {installed.directory_version})"
        )
    DirectoryEntry.objects.all().delete()
    for listing in parsed.practices:
        gpg.import_keys(listing.public_keys)
        DirectoryEntry.objects.create(
            node=listing.node,
            gateway=listing.gateway,
            slug=listing.slug,
            name=listing.name,
            fingerprints=list(listing.fingerprints),
            public_keys=listing.public_keys,
            directory_version=parsed.version,
        )
    record_event(
        "directory.import", details={"version": parsed.version, "practices": len(parsed.practices)}
    )
    return len(parsed.practices)


def listing_for_practice(
    practice: Practice, gateway: str, *, rotate: bool = False
) -> dict[str, Any]:
    """This node's entry for one of its practices, to send to the cooperative."""
    fingerprint = keys.ensure_practice_key(node_name(), practice.slug, practice.name, rotate=rotate)
    previous = [
        entry.fingerprints
        for entry in DirectoryEntry.objects.filter(node=node_name(), slug=practice.slug)
    ]
    fingerprints = [fingerprint, *[fp for fps in previous for fp in fps if fp != fingerprint][:2]]
    public = "".join(keys.public_key(fp) for fp in fingerprints)
    return {
        "slug": practice.slug,
        "name": practice.name,
        "fingerprints": fingerprints,
        "public_keys": public,
        "gateway": gateway,
    }
