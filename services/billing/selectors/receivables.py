"""What insurers owe (tiers payant): each issued invoice's AMO share is owed by the
patient's caisse and its AMC share by the mutuelle, both read from the cover in force
on the date of care; the aging report groups the open shares per insurer by age."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from billing.models import Allocation, Cover, Invoice, Rejection
from core.access.policy import Actor
from core.access.services import AccessDenied
from records.selectors.billing import patient_for_billing

BUCKETS = ("0-30", "31-60", "61-90", "90+")
ZERO = Decimal("0.00")


def bucket_of(age_days: int) -> str:
    if age_days <= 30:
        return "0-30"
    if age_days <= 60:
        return "31-60"
    if age_days <= 90:
        return "61-90"
    return "90+"


@dataclass
class Receivable:
    """One insurer's share of one invoice, and what it has paid of it."""

    invoice: Invoice
    payer: str  # "amo" or "amc"
    insurer_code: str  # "amo:751", "amc:12345678"
    insurer_name: str
    amount: Decimal
    paid: Decimal
    age_days: int
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def due(self) -> Decimal:
        return self.amount - self.paid

    @property
    def bucket(self) -> str:
        return bucket_of(self.age_days)


@dataclass
class InsurerAging:
    insurer_code: str
    insurer_name: str
    payer: str
    receivables: list[Receivable] = field(default_factory=list)

    @property
    def buckets(self) -> dict[str, Decimal]:
        totals = dict.fromkeys(BUCKETS, ZERO)
        for receivable in self.receivables:
            totals[receivable.bucket] += receivable.due
        return totals

    @property
    def total(self) -> Decimal:
        return sum((receivable.due for receivable in self.receivables), ZERO)


def insurer_of(cover: Cover | None, payer: str) -> tuple[str, str]:
    """The insurer's code and name on that cover (unknown when no cover was recorded)."""
    if cover is not None and payer == "amo" and cover.caisse_code:
        return f"amo:{cover.caisse_code}", cover.caisse_name
    if cover is not None and payer == "amc" and (cover.amc_number or cover.amc_name):
        return f"amc:{cover.amc_number or cover.amc_name}", cover.amc_name
    return f"{payer}:", _("Insurer not recorded")


def _cover_on(covers: list[Cover], day: date) -> Cover | None:
    started = [cover for cover in covers if cover.rights_from <= day]
    return started[0] if started else None  # covers come latest first


def receivables(as_of: date, *, insurer_code: str = "", open_only: bool = True) -> list[Receivable]:
    """The insurers' shares of the issued, uncredited invoices in tiers payant."""
    invoices = list(
        Invoice.objects.filter(status=Invoice.Status.ISSUED, kind=Invoice.Kind.INVOICE)
        .filter(
            Q(third_party_amo=True, amo_amount__gt=0) | Q(third_party_amc=True, amc_amount__gt=0)
        )
        .exclude(credit_notes__isnull=False)
        .select_related("issuer")
        .order_by("service_date", "pk")
    )
    if not invoices:
        return []
    covers: dict[int, list[Cover]] = defaultdict(list)
    for recorded in Cover.objects.filter(
        patient_id__in={invoice.patient_id for invoice in invoices}
    ).order_by("-rights_from", "-recorded_at", "-pk"):
        covers[recorded.patient_id].append(recorded)
    paid: dict[tuple[int, str], Decimal] = {
        (row["invoice_id"], row["payment__payer"]): row["total"]
        for row in Allocation.objects.filter(
            invoice__in=invoices, payment__payer__in=("amo", "amc")
        )
        .values("invoice_id", "payment__payer")
        .annotate(total=Sum("amount"))
    }
    rejected: dict[tuple[int, str], list[Rejection]] = defaultdict(list)
    for rejection in Rejection.objects.filter(invoice__in=invoices).order_by("noted_at"):
        rejected[(rejection.invoice_id, rejection.payer)].append(rejection)
    found = []
    for invoice in invoices:
        cover = _cover_on(covers.get(invoice.patient_id or 0, []), invoice.service_date)
        shares = (
            # Under tiers payant the caisse pays the patient's flat contribution too (and
            # recovers it from the patient's later refunds): it is in the share owed.
            ("amo", invoice.third_party_amo, invoice.amo_amount + invoice.patient_contribution),
            ("amc", invoice.third_party_amc, invoice.amc_amount),
        )
        for payer, third_party, amount in shares:
            if not third_party or amount <= 0:
                continue
            code, name = insurer_of(cover, payer)
            if insurer_code and code != insurer_code:
                continue
            receivable = Receivable(
                invoice=invoice,
                payer=payer,
                insurer_code=code,
                insurer_name=name,
                amount=amount,
                paid=paid.get((invoice.pk, payer), ZERO),
                age_days=(as_of - invoice.service_date).days,
                rejections=rejected.get((invoice.pk, payer), []),
            )
            if receivable.due > 0 or not open_only:
                found.append(receivable)
    return found


def aging_report(as_of: date) -> list[InsurerAging]:
    """The open receivables per insurer, by age (0-30, 31-60, 61-90, over 90 days)."""
    insurers: dict[str, InsurerAging] = {}
    for receivable in receivables(as_of):
        if receivable.insurer_code not in insurers:
            insurers[receivable.insurer_code] = InsurerAging(
                receivable.insurer_code, receivable.insurer_name, receivable.payer
            )
        insurers[receivable.insurer_code].receivables.append(receivable)
    return sorted(insurers.values(), key=lambda aging: (aging.payer, aging.insurer_name))


def patients_named(actor: Actor, shares: list[Receivable]) -> dict[int, str]:
    """The patients of these shares the reader may see, each read (and audited) once:
    one the reader may not see is left out (the share stays listed, unnamed)."""
    names: dict[int, str] = {}
    for patient_id in sorted({s.invoice.patient_id for s in shares if s.invoice.patient_id}):
        try:
            names[patient_id] = patient_for_billing(actor=actor, patient_id=patient_id).display_name
        except (AccessDenied, Http404):
            continue
    return names
