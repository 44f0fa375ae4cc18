"""Taking payments: partial or full, by cash, cheque, card or transfer.

Idempotent: the form carries a key generated when it was displayed; submitting it twice
(a double click, a retried request) returns the first payment instead of paying twice.
A payment can never exceed what is still due on the invoices it settles.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Allocation, CashDay, Invoice, Payment
from core.access.policy import Actor
from core.audit.services import record_event
from core.documents.money import money_text
from core.prepared import Bound, PreparedSQL

# Whether the invoice was credited, and what the patient paid on it, in one statement
# (it is read for every invoice shown). Insurers' payments settle their own shares
# (tiers payant), never what is due at the desk.
_INVOICES, _ALLOCATIONS = Invoice._meta.db_table, Allocation._meta.db_table
_PAYMENTS = Payment._meta.db_table
_CREDITED_AND_PAID = PreparedSQL(
    f"SELECT EXISTS (SELECT 1 FROM {_INVOICES} WHERE credited_invoice_id = %(invoice)s),"  # noqa: S608 - table names from the models  # nosec B608
    f" (SELECT COALESCE(SUM(a.amount), 0) FROM {_ALLOCATIONS} a JOIN {_PAYMENTS} p"
    f" ON p.id = a.payment_id WHERE a.invoice_id = %(invoice)s AND p.payer NOT IN ('amo', 'amc'))"
)


def credited_and_paid(invoice: Invoice) -> Bound:
    """The statement ``remaining_from`` needs, to run with others in one round trip."""
    return _CREDITED_AND_PAID.bind(invoice=invoice.pk)


def remaining_from(invoice: Invoice, rows: list[tuple[bool, Decimal]]) -> Decimal:
    if invoice.status != Invoice.Status.ISSUED or invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return Decimal("0.00")
    ((credited, paid),) = rows
    if credited:
        return Decimal("0.00")
    return invoice.due_at_desk - paid


def remaining_due(invoice: Invoice) -> Decimal:
    """What the patient still owes on an invoice (credited invoices owe nothing)."""
    if invoice.status != Invoice.Status.ISSUED or invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return Decimal("0.00")
    return remaining_from(invoice, _CREDITED_AND_PAID.all(invoice=invoice.pk))


def open_day(practice_id: int) -> CashDay:
    today = timezone.localdate()
    day, _created = CashDay.objects.get_or_create(practice_id=practice_id, day=today)
    if day.is_closed:
        raise ValidationError(
            _("Today's cash day is closed: no more payments can be recorded today.")
        )
    return day


@transaction.atomic
def payment_record(
    *,
    actor: Actor,
    invoice: Invoice,
    method: str,
    amount: Decimal,
    idempotency_key: str,
    cheque_number: str = "",
    cheque_bank: str = "",
) -> Payment:
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    key = idempotency_key.strip()[:64]
    if not key:
        raise ValidationError(_("The form is incomplete: reload the page."))
    previous = Payment.objects.filter(idempotency_key=key).first()
    if previous is not None:
        return previous  # the same submission again: nothing more is paid
    if method not in Payment.Method.values:
        raise ValidationError({"method": _("Choose a payment method.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("The amount has at most two decimals.")})
    if method == Payment.Method.CHEQUE and not cheque_number.strip():
        raise ValidationError({"cheque_number": _("Give the cheque number.")})
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    due = remaining_due(locked)
    if amount > due:
        raise ValidationError(
            {
                "amount": _("Overpayment: only %(due)s remain due on this invoice.")
                % {"due": money_text(due)}
            }
        )
    day = open_day(actor.practice_id)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                practice_id=actor.practice_id,
                cash_day=day,
                method=method,
                amount=amount,
                patient_id=locked.patient_id,
                cheque_number=cheque_number.strip(),
                cheque_bank=cheque_bank.strip(),
                idempotency_key=key,
                received_by_id=actor.person_id,
            )
    except IntegrityError:
        # The same key submitted concurrently: the other request won; return its payment.
        return Payment.objects.get(idempotency_key=key)
    Allocation.objects.create(
        practice_id=actor.practice_id, payment=payment, invoice=locked, amount=amount
    )
    record_event(
        "payment.record",
        actor=actor,
        patient_id=locked.patient_id,
        category="administrative",
        purpose="billing",
        target=f"invoice:{locked.reference}",
        details={"amount": str(amount), "method": method},
    )
    return payment
