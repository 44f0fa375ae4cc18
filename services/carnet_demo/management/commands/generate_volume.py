"""carnet generate_volume: fill a benchmark database with practices, patients and entries.

Runs as the database owner role (row-level security does not apply to it):

    CARNET_DATABASE_ROLE=owner carnet generate_volume --practices 50 --patients 1000000 \
        --entries 20000000

Never on a production node: the rows bypass the access policy and the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carnet_demo import volume


class Command(BaseCommand):
    help = "Write benchmark data (practices, staff, patients, clinical entries) with COPY."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--practices", type=int, default=50)
        parser.add_argument("--patients", type=int, default=1_000_000)
        parser.add_argument("--entries", type=int, default=20_000_000)
        parser.add_argument(
            "--seed", type=int, default=1, help="same seed, same data; one run per seed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        spec = volume.VolumeSpec(
            practices=options["practices"],
            patients=options["patients"],
            entries=options["entries"],
            seed=options["seed"],
        )
        try:
            result = volume.generate(spec, progress=self.stderr.write)
        except (volume.NotOwner, ValueError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.practices} practices, {result.persons} staff, {result.patients:,}"
                f" patients, {result.entries:,} entries ({result.rows:,} rows) in"
                f" {result.seconds:,.0f} s: {result.rows_per_second:,.0f} rows/s"
            )
        )
        self.stdout.write(f"Staff log in with the password {volume.VOLUME_PASSWORD!r}.")
