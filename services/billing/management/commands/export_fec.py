"""carnet export_fec --practice SLUG --from 2026-11-01 --to 2026-11-30 [--output FILE]"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.accounting import entries_between, fec_text
from billing.fec import validate_fec
from core import tenancy
from core.practices.models import Practice


class Command(BaseCommand):
    help = "Export a practice's accounting entries as a FEC file (checked before writing)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practice", required=True)
        parser.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
        parser.add_argument("--to", dest="end", required=True, type=date.fromisoformat)
        parser.add_argument("--output", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"Unknown practice: {options['practice']}")
        with tenancy.practice_context(practice.pk):
            entries = entries_between(options["start"], options["end"])
            text = fec_text(options["start"], options["end"])
        # A period without entries gives a header alone, which is a valid empty export.
        problems = validate_fec(text) if entries else []
        if problems:
            raise CommandError("The FEC file is not valid:\n" + "\n".join(problems[:20]))
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8", newline="")
            self.stdout.write(f"Written to {options['output']}")
        else:
            self.stdout.write(text, ending="")
