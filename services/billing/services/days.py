"""Closing the day: totals by method, the cheque deposit slip, and then nothing of the day
can change (the database refuses it)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import CashDay, ChequeDeposit, Issuer, Payment
from core.access.policy import Actor
from core.audit.services import record_event


def day_totals(day: CashDay) -> dict[str, str]:
    totals: dict[str, Decimal] = {method: Decimal("0.00") for method in Payment.Method.values}
    for method, amount in day.payments.values_list("method", "amount"):
        totals[method] += amount
    totals_text = {method: str(value) for method, value in totals.items()}
    totals_text["total"] = str(sum(totals.values(), Decimal("0.00")))
    return totals_text


def _deposit_cheques(practice_id: int, cash_day: CashDay) -> None:
    """One deposit per issuer: a cheque is paid into the account of whom it is made out
    to, so one slip never mixes two issuers' cheques. The payee and the account are
    written on the deposit as they are today."""
    cheques = (
        cash_day.payments.filter(method=Payment.Method.CHEQUE, cheque_deposit__isnull=True)
        .prefetch_related("allocations__invoice__issuer")
        .order_by("pk")
    )
    by_issuer: dict[int | None, tuple[Issuer | None, list[int]]] = {}
    for cheque in cheques:
        issuer = next((a.invoice.issuer for a in cheque.allocations.all()), None)
        key = issuer.pk if issuer else None
        by_issuer.setdefault(key, (issuer, []))[1].append(cheque.pk)
    for issuer, cheque_ids in by_issuer.values():
        deposit = ChequeDeposit.objects.create(
            practice_id=practice_id,
            cash_day=cash_day,
            issuer=issuer,
            payee=issuer.name if issuer else "",
            bank_name=issuer.bank_name if issuer else "",
            iban=issuer.iban if issuer else "",
        )
        Payment.objects.filter(pk__in=cheque_ids).update(cheque_deposit=deposit)


@transaction.atomic
def day_close(*, actor: Actor, day: date) -> CashDay:
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    if day > timezone.localdate():
        raise ValidationError(_("A day in the future cannot be closed."))
    cash_day, _created = CashDay.objects.get_or_create(practice_id=actor.practice_id, day=day)
    cash_day = CashDay.objects.select_for_update().get(pk=cash_day.pk)
    if cash_day.is_closed:
        raise ValidationError(_("This day is already closed."))
    _deposit_cheques(actor.practice_id, cash_day)
    cash_day.totals = day_totals(cash_day)
    cash_day.closed_at = timezone.now()
    cash_day.closed_by_id = actor.person_id
    cash_day.save(update_fields=["totals", "closed_at", "closed_by"])
    record_event(
        "cash_day.close", actor=actor, target=f"cash_day:{day.isoformat()}", details=cash_day.totals
    )
    return cash_day
