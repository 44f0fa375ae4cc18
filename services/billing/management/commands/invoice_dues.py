"""carnet invoice_dues --month 2026-11 --by USERNAME: the cooperative invoices the monthly
dues of every active member practice (each once), as the page does
(``billing.services.dues.dues_issue_month``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.services.dues import dues_issue_month
from core.access.policy import Actor
from core.accounts.models import Person


class Command(BaseCommand):
    help = "Invoice the cooperative dues of every active member practice for a month."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--by", required=True, help="username of a cooperative admin")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = date.fromisoformat(f"{options['month']}-01")
        except ValueError as error:
            raise CommandError("--month is YYYY-MM") from error
        admin = Person.objects.filter(username=options["by"], is_cooperative_admin=True).first()
        if admin is None:
            raise CommandError("--by must name a cooperative admin")
        actor = Actor(
            person_id=admin.pk, practice_id=None, is_cooperative_admin=True, label=admin.username
        )
        for row in dues_issue_month(actor=actor, month=month):
            if row.invoice is not None:
                self.stdout.write(f"{row.slug}: {row.invoice.reference} {row.invoice.total} €")
            else:
                self.stdout.write(f"{row.slug}: {row.problem}")
