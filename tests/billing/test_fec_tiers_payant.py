"""The FEC with tiers payant: each insurer's share is debited to its own auxiliary
account (467100 AMO / 467200 AMC, the caisse or mutuelle of the cover on the date of
care), its transfer credits it; the file passes the validator and its totals match the
cash journal and the receivables still open (what a transfer does not settle stays a
credit on the insurer's account)."""

from __future__ import annotations

import calendar
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.accounting import fec_text
from billing.fec import COLUMNS, SEPARATOR, totals, validate_fec
from billing.models import Issuer
from billing.selectors import cash_journal
from billing.selectors.receivables import receivables
from tests.billing.test_tiers_payant import CPAM, MUTUELLE, amo, covered, issued, transfer
from tests.fixtures import World


def by_auxiliary(text: str) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """Debit and credit per (account, auxiliary account)."""
    sums: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for line in text.split("\r\n")[1:]:
        if not line:
            continue
        row = dict(zip(COLUMNS, line.split(SEPARATOR), strict=True))
        key = (row["CompteNum"], row["CompAuxNum"])
        debit, credit = sums.get(key, (Decimal("0"), Decimal("0")))
        sums[key] = (
            debit + Decimal(row["Debit"].replace(",", ".")),
            credit + Decimal(row["Credit"].replace(",", ".")),
        )
    return sums


def test_the_fec_carries_the_insurers_receivables_and_their_transfers(
    billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    today = timezone.localdate()
    covered(world, today - timedelta(days=400))
    first = issued(world, alice_issuer, today - timedelta(days=10))
    second = issued(world, alice_issuer, today - timedelta(days=2), amc=False)
    result = transfer(world, "50.00", {first.pk: str(amo(first)), second.pk: str(amo(second))})
    assert result.unallocated == Decimal("50.00") - amo(first) - amo(second) > 0

    start = today.replace(day=1)
    end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    text = fec_text(start, end)
    assert validate_fec(text) == []
    aux = by_auxiliary(text)
    cpam_debit, cpam_credit = aux[("467100", "AMO691")]
    assert (cpam_debit, cpam_credit) == (amo(first) + amo(second), Decimal("50.00"))
    assert aux[("467200", "AMC12345678")] == (first.amc_amount, Decimal("0"))
    assert "CPAM du Rhône" in text and "DECOMPTE-2026-118" in text

    # Reconciled: the bank's debit is the day's transfers; each insurer's balance is what
    # it still owes, less what it paid without settling an invoice.
    assert totals(text)["512000"][0] == cash_journal(today).totals["transfer"] == Decimal("50.00")
    still_owed = {
        code: sum((r.due for r in receivables(today) if r.insurer_code == code), Decimal("0"))
        for code in (CPAM, MUTUELLE)
    }
    assert cpam_debit - cpam_credit == still_owed[CPAM] - result.unallocated
    amc_debit, amc_credit = aux[("467200", "AMC12345678")]
    assert amc_debit - amc_credit == still_owed[MUTUELLE] == first.amc_amount
    # The patients' account is untouched by the insurers.
    patients_debit, patients_credit = totals(text)["411000"]
    assert patients_debit == first.due_at_desk + second.due_at_desk
    assert patients_credit == Decimal("0")
