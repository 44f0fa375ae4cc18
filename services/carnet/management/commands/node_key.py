"""carnet node_key: create the node's OpenPGP key if missing; print its fingerprint and
public key (to publish in the cooperative's directory)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core import openpgp


class Command(BaseCommand):
    help = "Create (once) and show the node's OpenPGP key."

    def handle(self, *args: Any, **options: Any) -> None:
        keyring = openpgp.node_keyring()
        existed = keyring.secret_fingerprint() is not None
        fingerprint = keyring.ensure_node_key()
        state = "existing" if existed else "new"
        self.stdout.write(self.style.SUCCESS(f"Node key ({state}): {fingerprint}"))
        self.stdout.write(keyring.gpg.export_keys(fingerprint))
