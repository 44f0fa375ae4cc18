"""carnet secret_key: make the local demo's secret key, once.

A node is given its key (SECRET_KEY or SECRET_KEY_FILE); a demo or a developer's
checkout keeps one in ``$CARNET_VAR_DIR/secret_key``. This is the one step that writes
it: the settings only read it. An existing key is kept (a new one would log everybody
out and void the pending invitations).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from carnet.env import envsecret


def secret_key_create(path: Path) -> bool:
    """Write a new random key to ``path`` (readable by its owner only) unless one is
    there. True when it was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two commands started at once cannot both write, nor replace a key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    return True


class Command(BaseCommand):
    help = "Create the local demo's secret key under the var directory, once."
    # It is the step that makes the secret-key check pass: it must run without one.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        if envsecret("SECRET_KEY"):
            self.stdout.write("SECRET_KEY is given by the environment: nothing to write.")
            return
        path = Path(settings.CARNET_SECRET_KEY_PATH)
        if secret_key_create(path):
            self.stdout.write(f"Secret key written to {path}.")
        else:
            self.stdout.write(f"Secret key kept: {path} exists.")
