"""Installing the cooperative's signed directory, and this node's listing of one of its
practices (creating the practice's key if it has none)."""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any

import gnupg
from django.conf import settings
from django.db import transaction

from core import openpgp
from core.access.policy import Actor
from core.audit.services import record_event
from core.practices.models import Practice
from sharing import directory as directory_document
from sharing import keys
from sharing.models import DirectoryEntry
from sharing.selectors.directory import node_name


def _trusted_fingerprint(cooperative_fingerprint: str) -> str:
    trusted = (cooperative_fingerprint or settings.CARNET_COOPERATIVE_FINGERPRINT).replace(" ", "")
    if not trusted:
        raise directory_document.DirectoryError(
            "the cooperative's fingerprint is not configured (CARNET_COOPERATIVE_FINGERPRINT)",
            "not_configured",
        )
    return trusted


def cooperative_key_on_node(cooperative_fingerprint: str = "") -> str:
    """The cooperative's public key as this node's keyring holds it ("" if absent), so
    that a later directory can be checked without giving the key again."""
    trusted = _trusted_fingerprint(cooperative_fingerprint)
    return str(openpgp.node_keyring().gpg.export_keys(trusted) or "")


def directory_check(
    signed: str, *, cooperative_key: str, cooperative_fingerprint: str = ""
) -> directory_document.Directory:
    """Verify a signed directory without storing anything: in a keyring of its own,
    thrown away afterwards, against the cooperative's fingerprint this node trusts."""
    trusted = _trusted_fingerprint(cooperative_fingerprint)
    if not cooperative_key.strip():
        raise directory_document.DirectoryError(
            "the cooperative's public key is not on this node", "no_key"
        )
    with tempfile.TemporaryDirectory(prefix="carnet-directory-") as home:
        gpg = gnupg.GPG(gnupghome=home)
        gpg.encoding = "utf-8"
        try:
            imported = gpg.import_keys(cooperative_key)
            if trusted not in (imported.fingerprints or []):
                raise directory_document.DirectoryError(
                    "the key given is not the cooperative's key", "wrong_key"
                )
            return directory_document.verify(gpg, signed, cooperative_fingerprint=trusted)
        finally:
            subprocess.run(  # fixed arguments, our own temporary home
                ["gpgconf", "--homedir", home, "--kill", "all"],
                check=False,
                capture_output=True,
            )


@transaction.atomic
def directory_import(
    signed: str,
    *,
    cooperative_key: str,
    cooperative_fingerprint: str = "",
    actor: Actor | None = None,
) -> int:
    """Verify the directory with the cooperative's public key and store it (replaces the
    previous copy). Only the cooperative's known fingerprint is trusted, and a directory
    older than the one installed is refused. Nothing is stored, not even a key, until
    the directory is verified. Imports the cooperative's and the practices' public
    keys."""
    parsed = directory_check(
        signed, cooperative_key=cooperative_key, cooperative_fingerprint=cooperative_fingerprint
    )
    installed = DirectoryEntry.objects.order_by("-directory_version").first()
    if installed is not None and parsed.version < installed.directory_version:
        raise directory_document.DirectoryError(
            f"this directory (version {parsed.version}) is older than the installed one"
            f" (version {installed.directory_version})",
            "older",
        )
    gpg = openpgp.node_keyring().gpg
    gpg.import_keys(cooperative_key)
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
        "directory.import",
        actor=actor,
        details={"version": parsed.version, "practices": len(parsed.practices)},
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
