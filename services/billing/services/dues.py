"""The cooperative's own invoices: monthly dues of each member practice, per practitioner,
issued with the same engine (numbering, immutability) as the practices' invoices."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import fees, pricing
from billing.models import Invoice, InvoiceLine, Issuer
from billing.services.invoices import invoice_issue
from core.access.policy import Actor
from core.accounts.selectors import practitioner_count

DUES_CODE = "COTIS"


def cooperative_issuer() -> Issuer:
    issuer = Issuer.objects.filter(kind=Issuer.Kind.COOPERATIVE).first()
    if issuer is None:
        issuer = Issuer.objects.create(
            kind=Issuer.Kind.COOPERATIVE, name=_("Carnet cooperative"), prefix="COOP-"
        )
    return issuer


@transaction.atomic
def dues_issue(*, actor: Actor, practice_id: int, month: date) -> Invoice:
    """Issue the dues of one member practice for one month (once). Runs in the member
    practice's context: the invoice belongs to it, so its admin sees it."""
    first_day = month.replace(day=1)
    if Invoice.objects.filter(
        kind=Invoice.Kind.DUES, practice_id=practice_id, service_date=first_day
    ).exists():
        raise ValidationError(_("The dues of this month were already invoiced."))
    act = fees.act_valid_on(DUES_CODE, first_day, nomenclatures=("COOP",))
    if act is None:
        raise ValidationError(_("No dues tariff is valid for this month."))
    practitioners = practitioner_count(practice_id)
    if practitioners == 0:
        raise ValidationError(_("This practice has no practitioner."))
    total = pricing.cents(act.amount * practitioners)
    invoice = Invoice.objects.create(
        practice_id=practice_id,
        issuer=cooperative_issuer(),
        kind=Invoice.Kind.DUES,
        service_date=first_day,
        total=total,
        due_at_desk=total,
        created_by_id=actor.person_id,
        note=_("Dues %(month)s, %(n)s practitioner(s)")
        % {"month": first_day.strftime("%m/%Y"), "n": practitioners},
    )
    InvoiceLine.objects.create(
        practice_id=practice_id,
        invoice=invoice,
        act=act,
        code=act.code,
        label=act.label,
        quantity=practitioners,
        base_amount=total,
        charged_amount=total,
        amo_rate=act.amo_rate,
    )
    return invoice_issue(actor=actor, invoice=invoice)


def this_month() -> date:
    return timezone.localdate().replace(day=1)
