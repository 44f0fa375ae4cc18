"""carnet ops status: the node's state in a few lines, readable over SSH.

    sudo carnet ops status [--lang fr|en]

One line per check (replication, backup, WAL archive, node key, and failover on a node
with automatic failover): OK, WARNING or
CRITICAL, and why (thresholds in core/node_status.py and docs/operations.md). The exit
code is the worst level, as monitoring plugins expect: 0 OK, 1 WARNING, 2 CRITICAL.
Runs as the owner role (`carnet ops status` is dispatched here by carnet.cli).
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation
from django.utils.translation import gettext as _

from core import node_status

EXIT_CODES = {node_status.OK: 0, node_status.WARNING: 1, node_status.CRITICAL: 2}


class Command(BaseCommand):
    help = "The node's state: replication, backups, WAL archive, node key, failover."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--lang", default=None, help="fr or en (default: the node's)")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["lang"] or settings.LANGUAGE_CODE):
            checks = node_status.node_status()
            labels = {
                "replication": _("replication"),
                "backup": _("backup"),
                "wal_archive": _("WAL archive"),
                "node_key": _("node key"),
                "failover": _("failover"),
            }
            overall = node_status.worst(checks)
            self.stdout.write(
                _("Node %(node)s: %(level)s")
                % {
                    "node": settings.CARNET_NODE_NAME,
                    "level": overall,
                }
            )
            for check in checks:
                self.stdout.write(f"{check.level:<8} {labels[check.name]:<14} {check.message}")
        code = EXIT_CODES[overall]
        if code:
            sys.exit(code)
