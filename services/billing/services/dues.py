"""The cooperative's own invoices: monthly dues of each member practice, per practitioner,
issued with the same engine (numbering, immutability) as the practices' invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import fees, pricing
from billing.models import DuesPayment, Invoice, InvoiceLine, Issuer
from billing.services.invoices import invoice_issue
from core import tenancy
from core.access.policy import Actor, CooperativeAction
from core.access.services import require_cooperative
from core.accounts.selectors import practitioner_count
from core.audit.services import record_event
from core.practices import selectors as practices
from core.practices.models import CooperativeMembership

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


DUES_TERM_DAYS = 30  # a dues invoice is due this many days after it is issued


@transaction.atomic
def dues_payment_record(
    *,
    actor: Actor,
    practice_id: int,
    invoice_id: int,
    method: str,
    amount: Decimal,
    paid_on: date,
    reference: str,
    idempotency_key: str,
) -> DuesPayment:
    """The cooperative received money for one dues invoice of a member practice (a
    transfer or a cheque): recorded by a cooperative administrator, never more than what
    remains due, once per form (a double click records nothing more). Audited on the
    practice's chain and the node's."""
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target=f"practice:{practice_id}")
    key = idempotency_key.strip()[:64]
    if not key:
        raise ValidationError(_("The form is incomplete: reload the page."))
    with tenancy.practice_context(practice_id, actor.person_id):
        previous = DuesPayment.objects.filter(practice_id=practice_id, idempotency_key=key).first()
        if previous is not None:
            return previous
        invoice = (
            Invoice.objects.select_for_update()
            .filter(pk=invoice_id, practice_id=practice_id, kind=Invoice.Kind.DUES)
            .first()
        )
        errors: dict[str, str] = {}
        if invoice is None or invoice.status != Invoice.Status.ISSUED:
            errors["invoice"] = _("Choose one of the practice's dues invoices.")
        if method not in DuesPayment.Method.values:
            errors["method"] = _("Choose a transfer or a cheque.")
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            errors["amount"] = _("The amount must be positive, with at most two decimals.")
        if not reference.strip():
            errors["reference"] = _("Give the cheque's number or the transfer's reference.")
        if paid_on > timezone.localdate():
            errors["paid_on"] = _("The payment cannot be dated in the future.")
        if not errors and invoice is not None:
            due = dues_remaining(invoice)
            if amount > due:
                errors["amount"] = _("Only %(due)s € remain due on this invoice.") % {"due": due}
        if errors:
            raise ValidationError(errors)
        assert invoice is not None
        payment = DuesPayment.objects.create(
            practice_id=practice_id,
            invoice=invoice,
            method=method,
            amount=amount,
            paid_on=paid_on,
            reference=reference.strip()[:60],
            idempotency_key=key,
            recorded_by_id=actor.person_id,
        )
        for chain in (practice_id, None):
            record_event(
                "cooperative.dues_payment.record",
                actor=actor,
                practice_id=chain,
                target=f"invoice:{invoice.pk}",
                details={
                    "practice": practice_id,
                    "amount": str(amount),
                    "method": method,
                    "remaining": str(due - amount),
                },
            )
    return payment


def dues_remaining(invoice: Invoice) -> Decimal:
    """What the member practice still owes on a dues invoice."""
    paid = sum((p.amount for p in invoice.dues_payments.all()), Decimal("0.00"))
    return invoice.total - paid


@dataclass(frozen=True)
class MonthDues:
    """One member's dues for a month, before or after issuing them."""

    practice_id: int
    slug: str
    name: str
    practitioners: int
    amount: Decimal
    invoice: Invoice | None  # already issued (before), or just issued (after)
    problem: str = ""


def _active_members() -> list[tuple[int, str, str]]:
    return [
        (member.practice_id, member.slug, member.name)
        for member in practices.cooperative_members()
        # A practice in its notice to leave still uses the node, and pays for it.
        if member.status
        in (CooperativeMembership.Status.ACTIVE, CooperativeMembership.Status.LEAVING)
    ]


def dues_preview(*, actor: Actor, month: date) -> list[MonthDues]:
    """What issuing a month's dues would do, member by member: shown before the
    cooperative administrator confirms (an issued invoice is never deleted)."""
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target="cooperative:dues")
    first_day = month.replace(day=1)
    act = fees.act_valid_on(DUES_CODE, first_day, nomenclatures=("COOP",))
    rows = []
    for practice_id, slug, name in _active_members():
        with tenancy.practice_context(practice_id, actor.person_id):
            practitioners = practitioner_count(practice_id)
            existing = Invoice.objects.filter(
                kind=Invoice.Kind.DUES, practice_id=practice_id, service_date=first_day
            ).first()
        amount = pricing.cents(act.amount * practitioners) if act else Decimal("0.00")
        problem = ""
        if act is None:
            problem = _("No dues tariff is valid for this month.")
        elif practitioners == 0:
            problem = _("This practice has no practitioner.")
        rows.append(MonthDues(practice_id, slug, name, practitioners, amount, existing, problem))
    return rows


def dues_issue_month(*, actor: Actor, month: date) -> list[MonthDues]:
    """Issue the month's dues of every active member (each once, in the cooperative's
    own gapless series); one member's refusal (already invoiced, no practitioner) does
    not stop the others. Audited on the node's chain, each invoice on its practice's."""
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target="cooperative:dues")
    done = []
    for practice_id, slug, name in _active_members():
        with tenancy.practice_context(practice_id, actor.person_id):
            try:
                invoice = dues_issue(actor=actor, practice_id=practice_id, month=month)
            except ValidationError as error:
                done.append(
                    MonthDues(
                        practice_id, slug, name, 0, Decimal("0.00"), None, " ".join(error.messages)
                    )
                )
                continue
        line = invoice.lines.first()
        done.append(
            MonthDues(
                practice_id, slug, name, int(line.quantity if line else 0), invoice.total, invoice
            )
        )
    record_event(
        "cooperative.dues.issue",
        actor=actor,
        node_chain=True,
        target=f"month:{month:%Y-%m}",
        details={
            "issued": sum(1 for row in done if row.invoice),
            "refused": len(done) - sum(1 for row in done if row.invoice),
        },
    )
    return done
