"""carnet totp SECRET: print the current code for a base32 TOTP secret (demo, tests)."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP


def current_code(secret: str, at: float | None = None) -> str:
    key = base64.b32decode(secret.replace(" ", "").upper())
    generator = TOTP(key, step=30, t0=0, digits=6)
    generator.time = time.time() if at is None else at
    return f"{generator.token():06d}"


class Command(BaseCommand):
    help = "Print the current six-digit code for a TOTP secret (base32)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("secret")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self.stdout.write(current_code(options["secret"]))
        except (binascii.Error, ValueError) as error:
            raise CommandError(f"Not a base32 TOTP secret: {error}") from error
