"""carnet export_practice SLUG --output DIR: everything of one practice — people and roles,
patients' choices, records, documents, billing, sharing and its audit trail — so that a
member can leave with all its data (``carnet.practice_export``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carnet.practice_export import export_to
from core.practices.models import Practice


class Command(BaseCommand):
    help = "Export a practice (all its data) to a directory."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.filter(slug=options["slug"]).first()
        if practice is None:
            raise CommandError(f"Unknown practice: {options['slug']}")
        out: Path = options["output"]
        if out.exists() and any(out.iterdir()):
            raise CommandError(f"{out} is not empty")
        for name, rows in export_to(practice, out).items():
            self.stdout.write(f"{name}: {rows} rows")
        self.stdout.write(self.style.SUCCESS(f"Practice {practice.slug} exported to {out}"))
