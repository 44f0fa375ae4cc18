"""Invoices (notes d'honoraires), their lines, who issues them and their numbering.

Numbers are per issuer, sequential, without gap or duplicate: ``InvoiceCounter`` is
locked (SELECT ... FOR UPDATE) by the transaction that issues, so two issuers never get
the same number and a rolled-back issue leaves no hole. An issued invoice is frozen by
a database trigger (see migration 0002): corrections go through credit notes.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class Issuer(models.Model):
    """Who issues invoices: a practitioner of a practice, or the cooperative (dues)."""

    class Kind(models.TextChoices):
        PRACTITIONER = "practitioner", _("Practitioner")
        COOPERATIVE = "cooperative", _("Cooperative")

    class Sector(models.TextChoices):
        SECTOR_1 = "1", _("Sector 1")
        SECTOR_2 = "2", _("Sector 2")
        OPTAM = "optam", _("Sector 2 with OPTAM")
        NONE = "", _("Not applicable")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    sector = models.CharField(max_length=5, choices=Sector.choices, blank=True)
    prefix = models.CharField(max_length=20)  # printed before the number, e.g. "CM-2026-"
    siren = models.CharField(max_length=9, blank=True)
    country = models.CharField(max_length=2, default="FR")
    # The account the issuer's cheques are paid into, printed on each deposit slip.
    bank_name = models.CharField(max_length=100, blank=True)
    iban = models.CharField(max_length=34, blank=True)  # compact, validated (stdnum)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix"], name="issuer_unique_prefix")]

    def __str__(self) -> str:
        return self.name


class InvoiceCounter(models.Model):
    """The last number issued by an issuer (locked while issuing)."""

    issuer = models.OneToOneField(Issuer, on_delete=models.PROTECT, primary_key=True)
    last_number = models.PositiveIntegerField(default=0)


class Pathway(models.TextChoices):
    """The coordinated care pathway (parcours de soins coordonnés), as the care sheet
    asks it. Only "outside" changes the reimbursement (billing.pricing)."""

    NOT_STATED = "", _("Not stated")
    TREATING = "treating", _("The declared médecin traitant (or their replacement)")
    REFERRED = "referred", _("Referred by the médecin traitant")
    NEW_TREATING = "new_treating", _("A new médecin traitant, being declared")
    DIRECT = "direct", _("Specific direct access")
    EMERGENCY = "emergency", _("Emergency")
    AWAY = "away", _("Away from home")
    UNDER_16 = "under_16", _("Patient under 16 (the pathway does not apply)")
    OUTSIDE = "outside", _("Outside the care pathway")


class Invoice(models.Model):
    """A note of fees for a patient, a credit note, or a dues invoice to a member."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        DUES = "dues", _("Cooperative dues")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    number = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=40, blank=True)  # prefix + number, as printed
    patient_id = models.BigIntegerField(null=True, blank=True)
    encounter_id = models.BigIntegerField(null=True, blank=True)
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    service_date = models.DateField()
    issued_at = models.DateTimeField(null=True, blank=True)
    # The split, in euros with cents (computed at issue, frozen with the invoice).
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    amo_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    amc_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    patient_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    patient_contribution = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0")
    )  # participation forfaitaire, deducted from the AMO share
    long_term_condition = models.BooleanField(default=False)  # ALD cover (100 %)
    has_complementary = models.BooleanField(default=False)
    third_party_amo = models.BooleanField(default=False)  # tiers payant AMO
    third_party_amc = models.BooleanField(default=False)  # tiers payant AMC
    pathway = models.CharField(
        max_length=16, choices=Pathway.choices, blank=True, default="", db_default=""
    )
    due_at_desk = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    claim_channel = models.CharField(max_length=10, default="paper")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="invoice_unique_number"),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(number__isnull=False),
                name="invoice_issued_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=["patient_id", "service_date"]),
            models.Index(fields=["practice", "issued_at"]),
        ]

    def __str__(self) -> str:
        return self.reference or f"draft #{self.pk}"


class InvoiceLine(models.Model):
    """One act (or modifier, or excess fee) on an invoice, with its tariff of the day."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    # The tariff used: a shipped act, or the practice's own tariff (billing.models.tariffs).
    act = models.ForeignKey(
        "billing.Act", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    tariff = models.ForeignKey(
        "billing.PracticeTariff", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    code = models.CharField(max_length=16)
    label = models.CharField(max_length=300)
    quantity = models.PositiveSmallIntegerField(default=1)  # kilometres for an IK
    # A key letter's coefficient (AMI 4: 4); 1 for every other act.
    coefficient = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), db_default=Decimal("1")
    )
    base_amount = models.DecimalField(max_digits=10, decimal_places=2)  # tariff x coef x qty
    charged_amount = models.DecimalField(max_digits=10, decimal_places=2)  # what is billed
    excess_amount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    amo_rate = models.DecimalField(max_digits=5, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(base_amount__gte=0)
                & models.Q(charged_amount__gte=0)
                & models.Q(excess_amount__gte=0),
                name="invoice_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(act__isnull=False) | models.Q(tariff__isnull=False),
                name="invoice_line_has_tariff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coded} {self.charged_amount}"

    @property
    def coded(self) -> str:
        """The code as written on a care sheet: "AMI 4" for a key letter, "G" otherwise."""
        if self.coefficient == 1:
            return self.code
        return f"{self.code} {self.coefficient.normalize():f}"
