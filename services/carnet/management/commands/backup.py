"""carnet backup: an encrypted backup of this node, readable only by the cooperative.

    carnet backup [--output-dir DIR] [--keyring DIR] [--no-files]

Runs as the owner role (pg_dump reads every table). Writes, in the backup directory
(CARNET_BACKUP_DIR, default $CARNET_VAR_DIR/backups):

    carnet-<node>-<UTC time>.dump.gpg       pg_dump (custom format), encrypted
    carnet-<node>-<UTC time>.files.tar.gpg  the documents and the node's keyring, encrypted
    carnet-<node>-<UTC time>.manifest.json  sizes, SHA-256, recipients, migrations, version

encrypted to every public key in the backup keyring (CARNET_BACKUP_KEYRING, default
/etc/carnet/backup-keys). See services/carnet/backups.py.
"""

from __future__ import annotations

import os
import time
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from carnet import backups


def database_params() -> backups.Database:
    db = settings.DATABASES["default"]
    options = cast("dict[str, object]", db.get("OPTIONS") or {})
    return backups.Database(
        name=str(db["NAME"]),
        user=str(db["USER"]),
        host=str(db.get("HOST") or ""),
        port=str(db.get("PORT") or ""),
        password=str(db.get("PASSWORD") or ""),
        options=tuple(sorted((str(k), str(v)) for k, v in options.items())),
    )


def server_version() -> int:
    connection.ensure_connection()
    return int(connection.connection.info.server_version)


def default_keyring() -> Path:
    return Path(os.environ.get("CARNET_BACKUP_KEYRING", "/etc/carnet/backup-keys"))


def default_backup_dir() -> Path:
    return Path(settings.CARNET_BACKUP_DIR)


def carnet_version() -> str:
    try:
        return metadata.version("carnet")
    except metadata.PackageNotFoundError:
        return "unknown"


class Command(BaseCommand):
    help = "Back up the database, documents and keyring, encrypted to the backup keys."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output-dir", type=Path, default=None)
        parser.add_argument("--keyring", type=Path, default=None)
        parser.add_argument(
            "--no-files",
            action="store_true",
            help="the database only (not the documents and the node's keyring)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        output_dir = options["output_dir"] or default_backup_dir()
        keyring = options["keyring"] or default_keyring()
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
            migrations = [[app, name] for app, name in cursor.fetchall()]
        directories = None
        if not options["no_files"]:
            directories = {
                "media": Path(settings.MEDIA_ROOT),
                "gnupg": Path(settings.CARNET_GNUPG_HOME),
            }
        self.stdout.write(f"Backing up node {settings.CARNET_NODE_NAME} to {output_dir}")
        try:
            result = backups.write_backup(
                node=settings.CARNET_NODE_NAME,
                database=database_params(),
                server_version=server_version(),
                migrations=migrations,
                carnet_version=carnet_version(),
                keyring=keyring,
                output_dir=output_dir,
                directories=directories,
                say=self.stdout.write,
            )
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            if error.errno == 28:
                raise CommandError(
                    f"Disque plein dans {output_dir} : sauvegarde abandonnée.\n"
                    f"Disk full in {output_dir}: backup abandoned."
                ) from error
            raise CommandError(f"{error}") from error
        self.stdout.write(f"  {result.manifest.name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written: {result.manifest} ({len(migrations)} migrations,"
                f" {time.monotonic() - started:.1f} s)"
            )
        )
