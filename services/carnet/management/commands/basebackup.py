"""carnet basebackup: an encrypted physical base backup, for point-in-time recovery.

    carnet basebackup [--output-dir DIR] [--keyring DIR]

Runs as the owner role, which needs the REPLICATION attribute (pg_basebackup). Writes,
in the backup directory (CARNET_BACKUP_DIR):

    carnet-<node>-<UTC time>.base.tar.gpg      pg_basebackup (tar, no WAL), encrypted
    carnet-<node>-<UTC time>.basebackup.json   size, SHA-256, recipients, consistent time

With the WAL archive (`carnet wal_archive`), `carnet pitr` recovers to any time after it.
See services/carnet/pitr.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from carnet import backups, pitr
from carnet.management.commands.backup import (
    carnet_version,
    database_params,
    default_backup_dir,
    default_keyring,
    server_version,
)


class Command(BaseCommand):
    help = "A physical base backup, encrypted to the backup keys (point-in-time recovery)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output-dir", type=Path, default=None)
        parser.add_argument("--keyring", type=Path, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        output_dir = options["output_dir"] or default_backup_dir()
        keyring = options["keyring"] or default_keyring()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('archive_mode')")
            archive_mode = cursor.fetchone()[0]
            cursor.execute("SELECT pg_walfile_name(pg_current_wal_lsn())")
            wal_start = str(cursor.fetchone()[0])
        if archive_mode == "off":
            raise CommandError(
                "L'archivage des WAL est désactivé (archive_mode = off) : une sauvegarde de"
                " base seule ne permet aucune récupération à un instant donné.\n"
                "WAL archiving is off (archive_mode = off): a base backup alone allows no"
                " point-in-time recovery."
            )
        version = server_version()
        self.stdout.write(f"Base backup of node {settings.CARNET_NODE_NAME} to {output_dir}")
        try:
            result = pitr.write_base_backup(
                node=settings.CARNET_NODE_NAME,
                database=database_params(),
                server_version=version,
                carnet_version=carnet_version(),
                keyring=keyring,
                output_dir=output_dir,
                wal_start=wal_start,
                say=self.stdout.write,
            )
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"{error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Base backup written: {result.manifest} ({time.monotonic() - started:.1f} s)"
            )
        )
