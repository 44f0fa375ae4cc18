"""carnet import_fhir --practice SLUG --as USERNAME PATH...

Imports FHIR R4 bundles (JSON files; a directory stands for its *.json files) into a
practice's records. USERNAME is a practitioner of the practice: the GP of record of the
patients imported, and the author of the imported entries.

Each file is imported on its own, in one transaction: a bad file is reported and stores
nothing, and the others still go in. Importing a file again creates nothing new. The
command exits with 1 if any file failed. With -v 2, it lists what it skipped and the
references it could not resolve.

Several files are imported at once, one per processor (--jobs to choose): the progress
lines come in the order the files finish.
"""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from core import tenancy
from core.access.policy import PracticeAction, decide_practice
from core.accounts.models import Person
from core.accounts.selectors import actor_for
from core.practices.selectors import practice_by_slug
from sharing.fhir.importer import FhirImportError, counts_text, import_bundle, load_models

if TYPE_CHECKING:
    from core.practices.models import Practice

# Files imported between two runs of the cycle collector (see _collector_paused).
COLLECT_EVERY = 20
# Processes importing at once by default: the database shares the processors.
MAX_JOBS = 4


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
        parser.add_argument(
            "--jobs",
            "-j",
            type=int,
            default=None,
            help=f"files imported at once, each by its own process (default: one per"
            f" processor, at most {MAX_JOBS})",
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
        job = _Job(practice, person, options["confirm_not_duplicate"], options["verbosity"])
        jobs = _jobs(options["jobs"], len(files))
        started = time.monotonic()
        created: Counter[str] = Counter()
        failed: list[str] = []
        outcomes = _in_processes(job, files, jobs) if jobs > 1 else _here(job, files)
        for number, outcome in enumerate(outcomes, start=1):
            progress = f"[{number}/{len(files)}] {outcome.name}"
            if outcome.failure is not None:
                failed.append(outcome.name)
                self.stdout.write(self.style.ERROR(f"{progress}: FAILED: {outcome.failure}"))
                continue
            created.update(outcome.created)
            self.stdout.write(f"{progress}: {outcome.summary}")
            for line in outcome.details:
                self.stdout.write(line)
        imported = len(files) - len(failed)
        totals = counts_text(created)
        self.stdout.write(
            f"{imported} of {len(files)} files imported in {time.monotonic() - started:.1f} s;"
            f" created: {totals or 'nothing'}."
        )
        if failed:
            raise CommandError(f"{len(failed)} file(s) failed: {', '.join(failed)}", returncode=1)


@dataclass(frozen=True)
class _Job:
    """What every file of the command is imported with."""

    practice: Practice
    person: Person
    confirm_not_duplicate: bool
    verbosity: int


@dataclass
class _Outcome:
    """One file's import, as the command reports it (sent back by a worker process)."""

    name: str
    failure: str | None = None
    summary: str = ""
    created: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)


def _import_file(job: _Job, path: Path) -> _Outcome:
    """Import one file in its own transaction: its failure leaves the other files
    imported, and its audit events (a refusal, the failed attempt) are committed."""
    with tenancy.practice_context(job.practice.pk, job.person.pk):
        actor = actor_for(job.person, job.practice.pk)
        try:
            report = import_bundle(
                actor=actor,
                practice=job.practice,
                path_or_dict=path,
                gp=job.person,
                confirm_not_duplicate=job.confirm_not_duplicate,
            )
        except FhirImportError as error:
            return _Outcome(path.name, failure=error.reason)
        except Exception as error:
            return _Outcome(path.name, failure=repr(error))
    details = []
    if job.verbosity >= 2:
        details += [f"    skipped {line}" for line in report.skipped]
        details += [
            f"    unresolved {unresolved.resource} -> {unresolved.reference}"
            f" {unresolved.display}".rstrip()
            for unresolved in report.unresolved
        ]
    return _Outcome(
        path.name,
        summary=f"{report.summary()} ({report.seconds:.1f} s)",
        created=report.created,
        details=details,
    )


def _jobs(asked: int | None, files: int) -> int:
    """Processes importing at once: as asked, else one per processor (at most
    MAX_JOBS); never more than the files. A caller's open transaction (a script, a
    test) keeps the import in its own process: other processes could not see it."""
    if asked is not None and asked < 1:
        raise CommandError("--jobs: at least 1.")
    if connection.in_atomic_block:
        return 1
    wanted = asked if asked is not None else min(os.cpu_count() or 1, MAX_JOBS)
    return max(1, min(wanted, files))


def _here(job: _Job, files: list[Path]) -> Iterator[_Outcome]:
    for path in _collector_paused(files):
        yield _import_file(job, path)


def _in_processes(job: _Job, files: list[Path], jobs: int) -> Iterator[_Outcome]:
    """The files shared out to ``jobs`` processes forked from this one (Django already
    loaded), the largest first so that none is left with a long one at the end; the
    outcomes in the order they finish. Each file is still one transaction; two bundles
    registering the same person wait for each other (see import_bundle)."""
    connections.close_all()  # each process opens its own
    load_models()
    ordered = sorted(files, key=_size, reverse=True)
    gc.freeze()  # what Django loaded stays shared with the workers, out of the collector's way
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_worker_started) as pool:
            yield from pool.imap_unordered(functools.partial(_import_in_worker, job), ordered)
    finally:
        gc.unfreeze()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported by its import


_imported_here = 0


def _worker_started() -> None:
    gc.disable()


def _import_in_worker(job: _Job, path: Path) -> _Outcome:
    """A worker's file, with the cycle collector paused as in _collector_paused."""
    global _imported_here
    outcome = _import_file(job, path)
    _imported_here += 1
    if _imported_here % COLLECT_EVERY == 0:
        gc.collect()
    return outcome


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
