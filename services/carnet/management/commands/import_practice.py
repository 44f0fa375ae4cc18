"""carnet import_practice DIR: bring in a practice exported by `carnet export_practice`
(on a node that does not have it yet). Runs as the owner role, in one transaction:
everything is imported or nothing. Then `carnet audit verify` checks the trail."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction

from carnet.practice_export import PARTS
from core.audit.services import record_event
from core.practices.models import Practice


class Command(BaseCommand):
    help = "Import a practice exported from another node."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["directory"]
        try:
            manifest = json.loads((source / "manifest.json").read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"Not a practice export: {error}") from error
        if Practice.objects.filter(slug=manifest["practice"]).exists():
            raise CommandError(f"This node already has the practice {manifest['practice']}.")
        try:
            with transaction.atomic():
                for name, module in PARTS.items():
                    rows = json.loads((source / f"{name}.json").read_text())
                    count = module.import_part(rows)
                    self.stdout.write(f"{name}: {count} rows")
                self._reset_sequences()
                practice = Practice.objects.get(slug=manifest["practice"])
                record_event(
                    "practice.import",
                    practice_id=practice.pk,
                    target=f"practice:{practice.slug}",
                    details={"from_node": manifest.get("node", ""), "rows": manifest["rows"]},
                )
        except IntegrityError as error:
            raise CommandError(f"Import refused, nothing was imported: {error}") from error
        media = source / "media"
        if media.exists():
            shutil.copytree(media, Path(settings.MEDIA_ROOT), dirs_exist_ok=True)
        self.stdout.write(self.style.SUCCESS(f"Practice {manifest['practice']} imported."))

    def _reset_sequences(self) -> None:
        models = [
            model
            for model in apps.get_models()
            if model._meta.app_label
            in {
                "practices",
                "accounts",
                "access",
                "audit",
                "records",
                "billing",
                "sharing",
                "otp_totp",
            }
        ]
        statements = connection.ops.sequence_reset_sql(no_style(), models)
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
