"""carnet restore FILE: restore an encrypted backup into an empty database.

    carnet restore BACKUP [--gnupg-home DIR] [--passphrase-file F] [--force] [--no-files]

BACKUP is the .dump.gpg file (or its manifest). The node cannot read its own backups:
the admin brings a backup private key, in a gpg home given by --gnupg-home (or
GNUPGHOME), for the time of the restore. Checks the files against the manifest, checks
they decrypt, restores the database in one transaction (as the owner role), the
documents and the node's keyring, then verifies the audit trail.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from carnet import backups
from carnet.management.commands.backup import database_params, server_version
from core.audit.verify import verify_chains


def user_tables() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
        return int(cursor.fetchone()[0])


class Command(BaseCommand):
    help = "Restore an encrypted backup (needs a backup private key), then verify the audit trail."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("backup", type=Path)
        parser.add_argument("--gnupg-home", type=Path, default=None)
        parser.add_argument("--passphrase-file", type=Path, default=None)
        parser.add_argument(
            "--force", action="store_true", help="restore over a database that has tables"
        )
        parser.add_argument(
            "--no-files", action="store_true", help="the database only, not the files archive"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        home = options["gnupg_home"] or os.environ.get("GNUPGHOME")
        if not home:
            raise CommandError(
                "Donnez --gnupg-home (ou GNUPGHOME) : un répertoire gpg qui détient une clé"
                " privée de sauvegarde.\nGive --gnupg-home (or GNUPGHOME): a gpg home holding"
                " a backup private key."
            )
        key = backups.PrivateKey(Path(home), options["passphrase_file"])
        try:
            self._restore(key, options)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        report = verify_chains()
        summary = (
            f"{report.events_checked} events in {report.chains} chains,"
            f" {report.anchors_checked} anchors checked"
        )
        if not report.ok:
            raise CommandError(
                f"Restauré, mais la piste d'audit NE se vérifie PAS ({summary}) :"
                f" {report.problems[0]}\nRestored, but the audit trail does NOT verify"
                f" ({summary}): {report.problems[0]}"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {summary}."))
        self.stdout.write(
            self.style.SUCCESS(f"Restore complete in {time.monotonic() - started:.1f} s.")
        )

    def _restore(self, key: backups.PrivateKey, options: dict[str, Any]) -> None:
        manifest = backups.read_manifest(options["backup"])
        directory = options["backup"].parent
        self.stdout.write(
            f"Backup of node {manifest['node']} taken {manifest['created_at']}"
            f" (Carnet {manifest['carnet_version']}, {len(manifest['migrations'])} migrations)"
        )
        dump = backups.check_file(directory, manifest["dump"])
        archive = None
        if manifest.get("files") and not options["no_files"]:
            archive = backups.check_file(directory, manifest["files"])
        self.stdout.write("  files match the manifest (size, SHA-256)")
        backups.check_decryptable(key, dump, manifest["recipients"])
        if archive is not None:
            backups.check_decryptable(key, archive, manifest["recipients"])
        self.stdout.write(f"  decryptable with the key in {key.home}")
        tables = user_tables()
        if tables and not options["force"]:
            raise CommandError(
                f"La base {settings.DATABASES['default']['NAME']} n'est pas vide ({tables}"
                " tables) : restauration refusée (--force pour écraser).\n"
                f"The database {settings.DATABASES['default']['NAME']} is not empty ({tables}"
                " tables): restore refused (--force to overwrite)."
            )
        version = server_version()
        connection.close()  # pg_restore needs no competing session
        self.stdout.write(f"Restoring the database into {settings.DATABASES['default']['NAME']}")
        backups.restore_database(
            key=key,
            dump=dump,
            database=database_params(),
            server_version=version,
            clean=bool(tables),
        )
        self.stdout.write(f"  {user_tables()} tables restored")
        if archive is not None:
            counts = backups.restore_files(
                key,
                archive,
                {"media": Path(settings.MEDIA_ROOT), "gnupg": Path(settings.CARNET_GNUPG_HOME)},
            )
            for name, count in sorted(counts.items()):
                self.stdout.write(f"  {name}: {count} files restored")
