"""carnet load_fees: load or update the fee schedules and combination rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from billing import fees


class Command(BaseCommand):
    help = "Load the fee schedules (NGAP, CCAM, INAMI sample) and combination rules."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--acts", nargs="*", type=Path, help="fee files (CSV)")
        parser.add_argument("--rules", nargs="*", type=Path, help="rule files (CSV)")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["acts"] or fees.DEFAULT_FILES["acts"]:
            self.stdout.write(f"{fees.load_acts(path)} acts from {path.name}")
        for path in options["rules"] or fees.DEFAULT_FILES["rules"]:
            self.stdout.write(f"{fees.load_rules(path)} rules from {path.name}")
