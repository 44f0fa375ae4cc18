"""Payments, their allocation to invoices, the cash day and cheque deposit slips.

A payment belongs to a business day (``CashDay``). Once the day is closed, a trigger
refuses any change to its payments or to the day itself (see migration 0002).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class CashDay(models.Model):
    """A practice's business day: open, then closed (immutable) with its totals."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    totals = models.JSONField(default=dict, blank=True)  # by payment method, as text

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "day"], name="cash_day_unique")]

    def __str__(self) -> str:
        return f"{self.day}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class ChequeDeposit(models.Model):
    """A bordereau de remise de chèques: the cheques of a day made out to one issuer,
    taken to that issuer's bank account (a cheque is paid into its payee's account)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    cash_day = models.ForeignKey(CashDay, on_delete=models.PROTECT, related_name="deposits")
    created_at = models.DateTimeField(auto_now_add=True)
    issuer = models.ForeignKey(
        "billing.Issuer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # As they were when the day was closed: the slip says where the cheques went.
    payee = models.CharField(max_length=200, blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    iban = models.CharField(max_length=34, blank=True)


class Payment(models.Model):
    """Money received (or refunded when negative is not allowed: refunds are separate)."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        CARD = "card", _("Card")
        TRANSFER = "transfer", _("Transfer")

    class Payer(models.TextChoices):
        PATIENT = "patient", _("Patient")
        AMO = "amo", _("Mandatory insurer")
        AMC = "amc", _("Complementary insurer")
        PRACTICE = "practice", _("Member practice")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    cash_day = models.ForeignKey(CashDay, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=10, choices=Method.choices)
    payer = models.CharField(max_length=10, choices=Payer.choices, default=Payer.PATIENT)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    patient_id = models.BigIntegerField(null=True, blank=True)
    cheque_number = models.CharField(max_length=30, blank=True)
    cheque_bank = models.CharField(max_length=100, blank=True)
    cheque_deposit = models.ForeignKey(
        ChequeDeposit, on_delete=models.PROTECT, null=True, blank=True, related_name="cheques"
    )
    # Sent by the form (one per form display): a double click never pays twice.
    idempotency_key = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # An insurer's transfer (tiers payant), recorded by hand from its statement: the
    # insurer as the patients' cover names it (caisse code, or the mutuelle's number or
    # name), the day on the statement and its reference.
    insurer_code = models.CharField(max_length=110, blank=True, default="", db_default="")
    insurer_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    statement_reference = models.CharField(max_length=60, blank=True, default="", db_default="")
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"], name="payment_idempotent"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"


class Allocation(models.Model):
    """How much of a payment settles which invoice."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_positive")
        ]


class Rejection(models.Model):
    """An insurer's refusal to pay its share of an invoice (a rejet), with its reason.
    The share stays owed and open: the desk corrects and claims again, or credits."""

    class Payer(models.TextChoices):
        AMO = "amo", _("Mandatory insurer")
        AMC = "amc", _("Complementary insurer")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="rejections"
    )
    payer = models.CharField(max_length=3, choices=Payer.choices)
    reason = models.CharField(max_length=300)
    noted_at = models.DateTimeField(auto_now_add=True)
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )


class DuesPayment(models.Model):
    """Money the cooperative received from a member practice for one of its dues
    invoices (a transfer or a cheque), recorded by a cooperative administrator.

    Not a ``Payment``: the cooperative receives it, not the practice, so it is in no
    cash day and no deposit slip of the practice. It belongs to the practice's rows
    (``practice_id``, row-level security) so that the practice's administrators see it.
    """

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("Transfer")
        CHEQUE = "cheque", _("Cheque")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="dues_payments"
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    paid_on = models.DateField()
    # The cheque's number or the transfer's reference, as on the bank statement.
    reference = models.CharField(max_length=60)
    # Sent by the form (one per form display): a double click never records twice.
    idempotency_key = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["paid_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"], name="dues_payment_idempotent"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="dues_payment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"
