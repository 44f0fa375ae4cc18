"""carnet import_fhir --practice SLUG --as USERNAME PATH...

Imports FHIR R4 bundles (JSON files; a directory stands for its *.json files) into a
practice's records. USERNAME is a practitioner of the practice: the GP of record of the
patients imported, and the author of the imported entries.

Each file is imported on its own, in one transaction: a bad file is reported and stores
nothing, and the others still go in. Importing a file again creates nothing new. The
command exits with 1 if any file failed. With -v 2, it lists what it skipped and the
references it could not resolve.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core import tenancy
from core.access.policy import PracticeAction, decide_practice
from core.accounts.models import Person
from core.accounts.selectors import actor_for
from core.practices.selectors import practice_by_slug
from sharing.fhir.importer import FhirImportError, counts_text, import_bundle

# Files imported between two runs of the cycle collector (see _collector_paused).
COLLECT_EVERY = 20


class Command(BaseCommand):
    help = "Import FHIR R4 bundles (files, or directories of *.json) into a practice's records."
    # Only Carnet's own checks (the secret key): Django's would load every URL and view
    # of the project, a third of the command's time for a few bundles, to check what
    # an import never uses. `carnet check` and `carnet serve` run them all.
    requires_system_checks: list[str] = ["carnet"]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practice", required=True, help="the practice's slug")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="a practitioner of the practice: GP of record and author of the entries",
        )
        parser.add_argument(
            "--confirm-not-duplicate",
            action="store_true",
            help="register patients even when a close name with the same birth date exists"
            " (only after checking the possible duplicates a first run reported)",
        )
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        practice = practice_by_slug(options["practice"])
        if practice is None:
            raise CommandError(f"Unknown practice: {options['practice']}")
        person = Person.objects.filter(
            username=options["username"].strip().lower(), is_active=True
        ).first()
        if person is None:
            raise CommandError(f"Unknown person: {options['username']}")
        with tenancy.practice_context(practice.pk, person.pk):
            actor = actor_for(person, practice.pk)
            if not decide_practice(actor, PracticeAction.IMPORT_RECORDS, practice.pk):
                raise CommandError(f"{person.username} is not a practitioner of {practice.slug}.")
        files = _files(options["paths"])
        started = time.monotonic()
        created: Counter[str] = Counter()
        failed: list[str] = []
        for number, path in enumerate(_collector_paused(files), start=1):
            progress = f"[{number}/{len(files)}] {path.name}"
            # One transaction per file: its failure leaves the other files imported, and
            # its audit events (a refusal, the failed attempt) are committed.
            with tenancy.practice_context(practice.pk, person.pk):
                actor = actor_for(person, practice.pk)
                try:
                    report = import_bundle(
                        actor=actor,
                        practice=practice,
                        path_or_dict=path,
                        gp=person,
                        confirm_not_duplicate=options["confirm_not_duplicate"],
                    )
                except FhirImportError as error:
                    failed.append(path.name)
                    self.stdout.write(self.style.ERROR(f"{progress}: FAILED: {error.reason}"))
                    continue
                except Exception as error:
                    failed.append(path.name)
                    self.stdout.write(self.style.ERROR(f"{progress}: FAILED: {error!r}"))
                    continue
            created.update(report.created)
            self.stdout.write(f"{progress}: {report.summary()} ({report.seconds:.1f} s)")
            if options["verbosity"] >= 2:
                for line in report.skipped:
                    self.stdout.write(f"    skipped {line}")
                for unresolved in report.unresolved:
                    self.stdout.write(
                        f"    unresolved {unresolved.resource} -> {unresolved.reference}"
                        f" {unresolved.display}".rstrip()
                    )
        imported = len(files) - len(failed)
        totals = counts_text(created)
        self.stdout.write(
            f"{imported} of {len(files)} files imported in {time.monotonic() - started:.1f} s;"
            f" created: {totals or 'nothing'}."
        )
        if failed:
            raise CommandError(f"{len(failed)} file(s) failed: {', '.join(failed)}", returncode=1)


def _files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise CommandError(f"No .json file in {path}")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise CommandError(f"No such file or directory: {path}")
    return files


def _collector_paused(files: list[Path]) -> Iterator[Path]:
    """The files, imported with Python's cycle collector paused.

    A bundle is tens of thousands of small objects (its JSON, then fhir.resources'
    models), and making them set the collector off again and again, each time scanning
    them and the application's own: reading and checking the 10 Synthea bundles took
    0.40 s with it and 0.22 s without. Almost nothing of a bundle is left in a cycle (3 to
    6 objects per file), so a collection every few files is enough; what the application
    loaded before is frozen out of its reach.
    """
    gc.freeze()
    gc.disable()
    try:
        for index, path in enumerate(files):
            yield path
            if index % COLLECT_EVERY == COLLECT_EVERY - 1:
                gc.collect()
    finally:
        gc.enable()
        gc.unfreeze()
