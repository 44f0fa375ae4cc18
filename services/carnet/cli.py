"""The `carnet` command: Django's manage.py plus Carnet's own subcommands.

    carnet secret_key         make the local demo's secret key in var/ (once)
    carnet migrate            apply migrations (as the database owner role)
    carnet demo_data          create or refresh the demo practice
    carnet serve              serve Carnet with gunicorn (PORT, default 8000)
    carnet audit verify       check the audit trail; exit 1 naming the first bad event
    carnet audit anchor       sign the current chain heads with the node's key
    carnet node_key           create (once) and show the node's OpenPGP key
    carnet node_key rotate    replace the node key, keeping the retired public key
    carnet backup             an encrypted backup, readable only with a backup private key
    carnet restore FILE       restore a backup into an empty database, then verify the audit
    carnet wal_archive P F    PostgreSQL's archive_command: encrypt one WAL segment
    carnet wal_restore F P    PostgreSQL's restore_command: decrypt one WAL segment
    carnet basebackup         an encrypted physical base backup (point-in-time recovery)
    carnet pitr --base … --to …  recover a new data directory to a point in time
    carnet backup_loop        the container's nightly backup (sleep, back up, prune)
    carnet ops ACTION         drive the Ansible playbooks (deploy, upgrade, backup, restore)
    carnet ops status         on the node: replication, backup, WAL archive, node key

Commands that change the schema or must read every practice's audit events run as the
owner role; everything else runs as the application role, under row-level security.
"""

from __future__ import annotations

import os
import sys

OWNER_COMMANDS = {
    "migrate",
    "audit",
    "load_reference",
    "load_fees",
    "generate_volume",
    "import_practice",
    "dbshell",
    "showmigrations",
    "sqlmigrate",
    "backup",
    "restore",
    "basebackup",
    "node_key",
    "ops_status",
    "practice_purge",
}

# Commands that need no database and no Django: the WAL archiver runs as PostgreSQL's
# archive_command, and `carnet ops` on the admin's own machine.
STANDALONE_COMMANDS = {
    "wal_archive": "carnet.wal:archive_main",
    "wal_restore": "carnet.wal:restore_main",
    "pitr": "carnet.pitr:pitr_main",
    "ops": "carnet.ops:main",
    "backup_loop": "carnet.nightly:main",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    # `carnet ops status` reads the node itself (Django, the database); the other `ops`
    # actions drive Ansible from the admin's machine.
    if argv[1:3] == ["ops", "status"]:
        argv = [argv[0], "ops_status", *argv[3:]]
    if len(argv) > 1 and argv[1] in STANDALONE_COMMANDS:
        import importlib

        module, function = STANDALONE_COMMANDS[argv[1]].split(":")
        sys.exit(getattr(importlib.import_module(module), function)(argv[2:]))
    if len(argv) > 1 and argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("CARNET_DATABASE_ROLE", "owner")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
    _set_up_django()
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    finally:
        _before_exit()


def _set_up_django() -> None:
    """Load Django and Carnet's apps with the cycle collector paused, then keep what they
    loaded out of its reach (``gc.freeze``): those objects live as long as the process, and
    the collector scanning them again and again was a quarter of a command's start."""
    import gc

    gc.disable()
    try:
        import django

        django.setup()
    except Exception:  # noqa: S110 - Django's command line reports it in its own words
        pass
    finally:
        gc.freeze()
        gc.enable()


def _before_exit() -> None:
    """Keep what is left out of the cycle collector's reach as the process ends: at exit
    Python collects once more, scanning every object the command made (an import's
    models, the application's own when a command let them go), a fifth of a second
    for nothing, since the process's memory goes with it."""
    import gc

    gc.freeze()


if __name__ == "__main__":
    main()
