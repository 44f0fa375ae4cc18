"""carnet practice_purge [--due | SLUG]: delete the practices whose notice to leave the
cooperative has run (``core.practices.services.leaving.practice_purge``), as the tables'
owner role; print each signed certificate of deletion. The node's nightly timer runs
``--due``; an administrator may run it for one practice (never before its notice ends).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.practices.models import Practice
from core.practices.services import leaving


class Command(BaseCommand):
    help = "Delete the practices that left the cooperative once their notice has run."

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("slug", nargs="?")
        group.add_argument("--due", action="store_true", help="every practice whose notice ran")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["due"]:
            practices = leaving.due_for_deletion()
        else:
            practice = Practice.objects.filter(slug=options["slug"]).first()
            if practice is None:
                raise CommandError(f"Unknown practice: {options['slug']}")
            practices = [practice]
        for practice in practices:
            try:
                deletion = leaving.practice_purge(practice_id=practice.pk)
            except ValidationError as error:
                raise CommandError(f"{practice.slug}: {' '.join(error.messages)}") from error
            except PermissionError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"{practice.slug}: {sum(deletion.rows.values())} rows deleted,"
                f" certificate signed by {deletion.fingerprint}"
            )
            self.stdout.write(deletion.certificate)
        if not practices:
            self.stdout.write("No practice's notice has run.")
