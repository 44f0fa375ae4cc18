"""carnet node_key [show | rotate | list]

    carnet node_key          create the node's OpenPGP key if missing; print its
                             fingerprint and public key (to publish)
    carnet node_key rotate   replace it: a new key, a rotation statement signed by the old
                             and the new key, an audit event, an anchor with each key; the
                             old key's secret half is deleted (its public half is kept)
    carnet node_key list     the node keys, current and retired, with their dates

Runs as the owner role (the node keys' table is read-only for the application role).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core import openpgp
from core.audit.selectors.node_keys import node_keys
from core.audit.services.node_key import NoNodeKey, rotate_node_key


class Command(BaseCommand):
    help = "Create (once), show, rotate or list the node's OpenPGP key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", nargs="?", default="show", choices=["show", "rotate", "list"])

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rotate":
            self.rotate()
        elif action == "list":
            self.list_keys()
        else:
            self.show()

    def show(self) -> None:
        keyring = openpgp.node_keyring()
        existed = keyring.secret_fingerprint() is not None
        fingerprint = keyring.ensure_node_key()
        state = "existing" if existed else "new"
        self.stdout.write(self.style.SUCCESS(f"Node key ({state}): {fingerprint}"))
        self.stdout.write(keyring.gpg.export_keys(fingerprint))

    def rotate(self) -> None:
        try:
            rotation = rotate_node_key()
        except NoNodeKey as error:
            raise CommandError(
                "Ce nœud n'a pas de clé à remplacer : créez-la avec `carnet node_key`.\n"
                "This node has no key to rotate: create it with `carnet node_key`."
            ) from error
        self.stdout.write(f"Retired node key: {rotation.previous} (secret half deleted)")
        self.stdout.write(f"Anchor {rotation.anchor_before.pk} signed by the retired key")
        self.stdout.write(rotation.statement)
        self.stdout.write(f"Anchor {rotation.anchor_after.pk} signed by the new key")
        self.stdout.write(self.style.SUCCESS(f"Node key (rotated): {rotation.new}"))
        self.stdout.write(openpgp.node_keyring().public_key(rotation.new))

    def list_keys(self) -> None:
        current = openpgp.node_keyring().secret_fingerprint()
        rows = node_keys()
        if current and current not in {row.fingerprint for row in rows}:
            self.stdout.write(f"{current}  current (never rotated)")
        for row in rows:
            state = "current" if row.fingerprint == current else "retired"
            retired = f"  retired {row.retired_at:%Y-%m-%d %H:%M}Z" if row.retired_at else ""
            self.stdout.write(
                f"{row.fingerprint}  {state}  created {row.created_at:%Y-%m-%d %H:%M}Z{retired}"
            )
