"""The FEC export of the demo month passes the validator, and its totals match the cash
journal and the invoices."""

from __future__ import annotations

import calendar
from decimal import Decimal

from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from billing.accounting import fec_text
from billing.fec import totals, validate_fec
from billing.models import Invoice, Payment
from billing.selectors import cash_journal
from core import tenancy
from core.practices.models import Practice


def test_the_demo_month_exports_a_valid_fec_matching_the_journal(
    db: None, fee_schedules: None, settings, tmp_path
) -> None:
    settings.VAR_DIR = tmp_path
    call_command("demo_data", "--patients", "15")
    practice = Practice.objects.get(slug="msp-des-tilleuls")
    tenancy.activate(practice.pk)
    assert Invoice.objects.filter(status="issued").count() >= 10
    assert Payment.objects.count() >= 5

    today = timezone.localdate()
    start = today.replace(day=1)
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    text = fec_text(start, end)
    assert validate_fec(text) == []

    by_account = totals(text)
    journal = cash_journal(today)
    received = sum(
        (
            by_account.get(account, (Decimal("0"), Decimal("0")))[0]
            for account in ("531000", "511200", "512000")
        ),
        Decimal("0.00"),
    )
    assert received == journal.totals["total"] == Payment.objects.aggregate(s=Sum("amount"))["s"]
    assert by_account["531000"][0] == journal.totals["cash"]
    fees_debit, fees_credit = by_account["706000"]
    invoiced = Invoice.objects.filter(status="issued", kind="invoice").aggregate(s=Sum("total"))[
        "s"
    ]
    assert fees_credit - fees_debit == invoiced
    # Patients' account: what was billed at the desk minus what was received.
    _patients_debit, patients_credit = by_account["411000"]
    assert patients_credit == received


def test_the_export_command_writes_a_checked_file(
    db: None, fee_schedules: None, settings, tmp_path
) -> None:
    settings.VAR_DIR = tmp_path
    call_command("demo_data", "--patients", "8")
    today = timezone.localdate()
    output = tmp_path / "fec.txt"
    call_command(
        "export_fec",
        "--practice",
        "msp-des-tilleuls",
        "--from",
        today.replace(day=1).isoformat(),
        "--to",
        today.isoformat(),
        "--output",
        str(output),
    )
    assert validate_fec(output.read_text(encoding="utf-8")) == []


def test_the_csv_export_escapes_formulas(db: None, fee_schedules: None, settings, tmp_path) -> None:
    from billing.accounting import csv_text
    from billing.fec import escape_text

    settings.VAR_DIR = tmp_path
    call_command("demo_data", "--patients", "8")
    tenancy.activate(Practice.objects.get(slug="msp-des-tilleuls").pk)
    today = timezone.localdate()
    text = csv_text(today.replace(day=1), today)
    assert (
        text.splitlines()[0]
        == "journal;entry;date;account;account_label;auxiliary;piece;label;debit;credit"
    )
    assert len(text.splitlines()) > 5
    assert escape_text('=HYPERLINK("http://x")').startswith("'=")
    assert escape_text("-2+3").startswith("'-")
