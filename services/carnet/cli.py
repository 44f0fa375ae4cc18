"""The `carnet` command: Django's manage.py plus Carnet's own subcommands.

    carnet migrate            apply migrations (as the database owner role)
    carnet demo_data          create or refresh the demo practice
    carnet serve              serve Carnet with gunicorn (PORT, default 8000)
    carnet audit verify       check the audit trail; exit 1 naming the first bad event
    carnet audit anchor       sign the current chain heads with the node's key
    carnet node_key           create (once) and show the node's OpenPGP key

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
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in OWNER_COMMANDS:
        os.environ.setdefault("CARNET_DATABASE_ROLE", "owner")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
