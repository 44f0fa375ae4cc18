"""carnet audit verify | anchor | show"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.audit.anchor import create_anchor
from core.audit.verify import verify_chains


class Command(BaseCommand):
    help = "Verify the audit trail, or sign its current state (anchor)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="recompute every chain and check the anchors")
        verify.add_argument(
            "--all", action="store_true", help="list every problem, not only the first"
        )
        sub.add_parser("anchor", help="sign the chain heads with the node's OpenPGP key")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "anchor":
            anchor = create_anchor()
            self.stdout.write(anchor.signed_text)
            self.stdout.write(
                self.style.SUCCESS(f"Anchor {anchor.pk} signed by {anchor.fingerprint}")
            )
            return
        report = verify_chains(stop_at_first=not options["all"])
        summary = (
            f"{report.events_checked} events in {report.chains} chains,"
            f" {report.anchors_checked} anchors checked"
            + (f", by {report.processes} processes" if report.processes > 1 else "")
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {summary}."))
            return
        for problem in report.problems or []:
            self.stderr.write(f"TAMPERED: {problem}")
        raise CommandError(
            f"Audit trail NOT intact ({summary}). First problem: {report.problems[0]}"
        )
