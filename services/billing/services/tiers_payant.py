"""Insurers' payments (tiers payant), recorded by hand from their statements: one
transfer settles the insurer's shares of many invoices. Idempotent like
``payment_record``; an allocation never exceeds what the insurer still owes on that
invoice, and what is not allocated stays visible as unallocated. A rejection (rejet)
is noted with its reason; the share stays open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from billing.models import Allocation, Invoice, Payment, Rejection
from billing.selectors.receivables import receivables
from billing.services.payments import open_day
from core.access.policy import Actor
from core.audit.services import record_event
from core.documents.money import money_text

MAX_REASON = 300


@dataclass
class InsurerPayment:
    payment: Payment
    allocated: Decimal

    @property
    def unallocated(self) -> Decimal:
        return self.payment.amount - self.allocated


def _cents(amount: Decimal, field: str) -> Decimal:
    if amount <= 0:
        raise ValidationError({field: _("The amount must be positive.")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: _("The amount has at most two decimals.")})
    return amount


def _result(payment: Payment) -> InsurerPayment:
    allocated = payment.allocations.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
    return InsurerPayment(payment, allocated)


@transaction.atomic
def insurer_payment_record(
    *,
    actor: Actor,
    insurer_code: str,
    paid_on: date,
    amount: Decimal,
    reference: str,
    allocations: dict[int, Decimal],
    idempotency_key: str,
) -> InsurerPayment:
    """Record an insurer's transfer and settle the given invoices' shares with it."""
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    key = idempotency_key.strip()[:64]
    if not key:
        raise ValidationError(_("The form is incomplete: reload the page."))
    previous = Payment.objects.filter(idempotency_key=key).first()
    if previous is not None:
        return _result(previous)  # the same submission again: nothing more is paid
    payer, _colon, code = insurer_code.partition(":")
    if payer not in ("amo", "amc") or not code:
        raise ValidationError({"insurer": _("Choose the insurer.")})
    _cents(amount, "amount")
    reference = reference.strip()
    if not reference:
        raise ValidationError({"reference": _("Give the reference of the statement.")})
    if len(reference) > 60:
        raise ValidationError({"reference": _("The reference has at most 60 characters.")})
    wanted = {pk: _cents(share, "allocations") for pk, share in allocations.items()}
    if sum(wanted.values(), Decimal("0.00")) > amount:
        raise ValidationError(
            {"allocations": _("The invoices settled add up to more than the payment.")}
        )
    # Lock the invoices settled, then read what the insurer still owes on each.
    list(Invoice.objects.select_for_update().filter(pk__in=wanted).values_list("pk"))
    owed = receivables(paid_on, insurer_code=insurer_code)
    open_shares = {r.invoice.pk: r for r in owed if r.invoice.pk in wanted}
    for pk, share in wanted.items():
        receivable = open_shares.get(pk)
        if receivable is None:
            raise ValidationError(
                {"allocations": _("An invoice chosen is not owed by this insurer.")}
            )
        if share > receivable.due:
            raise ValidationError(
                {
                    "allocations": _(
                        "Overpayment: only %(due)s remain owed by the insurer on %(ref)s."
                    )
                    % {"due": money_text(receivable.due), "ref": receivable.invoice.reference}
                }
            )
    if not owed:
        raise ValidationError({"insurer": _("This insurer owes nothing: no payment to record.")})
    name = owed[0].insurer_name
    day = open_day(actor.practice_id)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                practice_id=actor.practice_id,
                cash_day=day,
                method=Payment.Method.TRANSFER,
                payer=payer,
                amount=amount,
                insurer_code=insurer_code,
                insurer_name=name,
                statement_reference=reference,
                paid_on=paid_on,
                idempotency_key=key,
                received_by_id=actor.person_id,
            )
    except IntegrityError:
        return _result(Payment.objects.get(idempotency_key=key))
    for pk, share in wanted.items():
        Allocation.objects.create(
            practice_id=actor.practice_id, payment=payment, invoice_id=pk, amount=share
        )
    for pk in wanted:
        invoice = open_shares[pk].invoice
        record_event(
            "payment.insurer_record",
            actor=actor,
            patient_id=invoice.patient_id,
            category="administrative",
            purpose="billing",
            target=f"invoice:{invoice.reference}",
            details={"amount": str(wanted[pk]), "insurer": insurer_code, "reference": reference},
        )
    return _result(payment)


@transaction.atomic
def rejection_note(*, actor: Actor, invoice: Invoice, payer: str, reason: str) -> Rejection:
    """Note that the insurer refused its share of the invoice; the share stays open."""
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    if payer not in Rejection.Payer.values:
        raise ValidationError({"payer": _("Choose the insurer.")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason of the rejection.")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("The reason has at most 300 characters.")})
    owed = [
        receivable
        for receivable in receivables(invoice.service_date, open_only=False)
        if receivable.invoice.pk == invoice.pk and receivable.payer == payer
    ]
    if not owed:
        raise ValidationError({"payer": _("This insurer owes nothing on this invoice.")})
    rejection = Rejection.objects.create(
        practice_id=actor.practice_id,
        invoice=invoice,
        payer=payer,
        reason=reason,
        noted_by_id=actor.person_id,
    )
    record_event(
        "invoice.rejection_note",
        actor=actor,
        patient_id=invoice.patient_id,
        category="administrative",
        purpose="billing",
        target=f"invoice:{invoice.reference}",
        details={"payer": payer},
    )
    return rejection
