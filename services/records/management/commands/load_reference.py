"""carnet load_reference: load (or refresh) the BDPM drugs and their compositions, the
vaccines among them, the ATC codes, the ANSM interaction thesaurus and the CIM-10 codes.

Runs as the database owner role (see ``carnet.cli``): the application role may only read
these tables. Without options it loads the copies shipped in ``records/data/``; give a
fresh BDPM download with ``--drugs``, as downloaded (windows-1252 is accepted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from records import compositions, reference


class Command(BaseCommand):
    help = (
        "Load the French reference data: BDPM drugs, compositions, generic groups and"
        " vaccines, ATC codes, the ANSM interaction thesaurus and CIM-10 codes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--drugs",
            type=Path,
            default=reference.DEFAULT_DRUGS_FILE,
            help="CIS_bdpm.txt, plain or gzipped (default: the shipped copy)",
        )
        parser.add_argument(
            "--cim10",
            type=Path,
            default=reference.DEFAULT_CIM10_FILE,
            help="ATIH CIM-10 CSV, plain or gzipped (default: the shipped copy)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.load("drugs", reference.load_drugs, options["drugs"])
        self.load("CIM-10 codes", reference.load_cim10, options["cim10"])
        self.load("vaccines", lambda _path: reference.load_vaccines(), reference.DATA_DIR)
        # The safety checks' data, in the order the loaders depend on: the compositions
        # read the drugs and the thesaurus' names (records/compositions.py).
        self.load("ATC classes", compositions.load_atc_classes, compositions.DEFAULT_ATC_FILE)
        self.load(
            "interaction thesaurus pairs",
            lambda path: compositions.load_interactions(path),
            compositions.DEFAULT_THESAURUS_FILE,
        )
        self.load(
            "composition lines",
            lambda path: compositions.load_compositions(path),
            compositions.DEFAULT_COMPOSITIONS_FILE,
        )

    def load(self, what: str, loader: Callable[[Path], int], path: Path) -> None:
        started = time.monotonic()
        try:
            count = loader(path)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot load {what} from {path}: {error}") from error
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"{count} {what} loaded from {path} in {elapsed:.1f} s")
        )
