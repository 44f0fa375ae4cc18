"""carnet export_practice SLUG --output DIR: everything of one practice — people and roles,
patients' choices, records, documents, billing, sharing and its audit trail — so that a
member can leave with all its data. Runs as the application role inside the practice's
context: row-level security guarantees nothing of another practice is read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing import export as billing_export
from core import export as core_export
from core import tenancy
from core.audit.services import record_event
from core.practices.models import Practice
from records import export as records_export
from sharing import export as sharing_export

PARTS = {
    "core": core_export,
    "records": records_export,
    "billing": billing_export,
    "sharing": sharing_export,
}


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
        out.mkdir(parents=True, exist_ok=True)
        counts = {}
        with tenancy.practice_context(practice.pk):
            record_event(
                "practice.export", practice_id=practice.pk, target=f"practice:{practice.slug}"
            )
            for name, module in PARTS.items():
                rows = module.export_part(practice)
                (out / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=0))
                counts[name] = len(rows)
                self.stdout.write(f"{name}: {len(rows)} rows")
            for relative in records_export.document_files(practice):
                source = Path(settings.MEDIA_ROOT) / relative
                target = out / "media" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        manifest = {
            "practice": practice.slug,
            "exported_at": timezone.now().isoformat(),
            "node": settings.CARNET_NODE_NAME,
            "rows": counts,
            "format": 1,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
        self.stdout.write(self.style.SUCCESS(f"Practice {practice.slug} exported to {out}"))
