"""WAL archiving, encrypted to the backup keys (for point-in-time recovery).

In postgresql.conf (the server runs it as the postgres user, once per WAL segment; one line each):

    archive_mode = on
    archive_command = '/opt/carnet/venv/bin/carnet wal_archive
        --keyring /etc/carnet/backup-keys --dest /var/backups/carnet/wal %p %f'

and, on the host restoring to a point in time, with a backup private key:

    restore_command = '/opt/carnet/venv/bin/carnet wal_restore
        --source /restore/wal --gnupg-home /root/restore-key %f %p'

Exit 0 only once the segment is safely stored: PostgreSQL keeps the segment and retries
otherwise. Needs no database and no Django.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import IO

from carnet import backups


def archive_segment(segment: Path, name: str, keyring: Path, dest: Path) -> str:
    target = dest / f"{name}.gpg"
    if target.exists():
        # An earlier attempt stored it and PostgreSQL did not hear back: already safe.
        return f"{name}: already archived"

    def feed(stream: IO[bytes]) -> None:
        with segment.open("rb") as source:
            shutil.copyfileobj(source, stream, 1 << 20)

    with backups.backup_recipients(keyring) as recipients:
        backups.encrypted_stream(recipients, target, feed=feed, what="WAL", compress=True)
    return f"{name}: archived, encrypted to {len(recipients.fingerprints)} key(s)"


def restore_segment(name: str, destination: Path, source: Path, key: backups.PrivateKey) -> None:
    encrypted = source / f"{name}.gpg"
    if not encrypted.is_file():
        raise FileNotFoundError(encrypted)  # normal at the end of the archive
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        with partial.open("wb") as out:
            backups.decrypt_to(key, encrypted, out)
        partial.rename(destination)
    finally:
        if partial.exists():
            partial.unlink()


def archive_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="carnet wal_archive")
    parser.add_argument("path", type=Path, help="%%p: the segment's path")
    parser.add_argument("name", help="%%f: the segment's file name")
    parser.add_argument(
        "--keyring",
        type=Path,
        default=Path(os.environ.get("CARNET_BACKUP_KEYRING", "/etc/carnet/backup-keys")),
    )
    parser.add_argument(
        "--dest",
        type=Path,
        default=Path(os.environ.get("CARNET_WAL_ARCHIVE", "/var/backups/carnet/wal")),
    )
    options = parser.parse_args(argv)
    try:
        print(archive_segment(options.path, options.name, options.keyring, options.dest))
    except (backups.BackupError, OSError) as error:
        print(f"carnet wal_archive: {error}", file=sys.stderr)
        return 1
    return 0


def restore_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="carnet wal_restore")
    parser.add_argument("name", help="%%f: the segment's file name")
    parser.add_argument("path", type=Path, help="%%p: where PostgreSQL wants it")
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument(
        "--gnupg-home", type=Path, default=Path(os.environ.get("GNUPGHOME", "~/.gnupg"))
    )
    parser.add_argument("--passphrase-file", type=Path, default=None)
    options = parser.parse_args(argv)
    key = backups.PrivateKey(options.gnupg_home.expanduser(), options.passphrase_file)
    try:
        restore_segment(options.name, options.path, options.source, key)
    except FileNotFoundError:
        return 1
    except (backups.BackupError, OSError) as error:
        print(f"carnet wal_restore: {error}", file=sys.stderr)
        return 1
    return 0
