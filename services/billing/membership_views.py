"""The practice's membership of the cooperative, two ways:

- for the practice's administrators (``/p/<slug>/adhesion/``): plan, shares subscribed
  and paid, dues per period with their invoices, the payments received, what is late;
- for the cooperative's administrators (``/cooperative/cotisations/``, every member's
  totals; ``/cooperative/adherents/<id>/``): the same account of one member, and
  recording a payment received (a transfer, a cheque).

Thin views: the rules are the policy's (``PracticeAction.VIEW_MEMBERSHIP``,
``CooperativeAction.MANAGE_DUES``), the reads ``billing.selectors.membership`` and
``core.practices.selectors``, the write ``billing.services.dues``. Dues invoices only:
nothing here reads a patient's data.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import DuesPayment
from billing.selectors.membership import DuesAccount, dues_account
from billing.services.dues import dues_issue_month, dues_payment_record, dues_preview
from billing.services.exports import cooperative_fec_export
from core import tenancy
from core.access.policy import Actor, CooperativeAction, PracticeAction
from core.access.services import require_cooperative, require_practice
from core.accounts.requests import AuthenticatedRequest
from core.accounts.selectors import actor_for
from core.audit.services import record_event
from core.forms import attach_service_errors
from core.practices import selectors as practices
from core.practices.context import PracticeRequest, practice_view
from core.practices.services.membership import shares_paid_set


class DuesPaymentForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Dues invoice"), coerce=int)
    method = forms.ChoiceField(label=_("Paid by"), choices=DuesPayment.Method.choices)
    amount = forms.DecimalField(label=_("Amount (€)"), max_digits=10, decimal_places=2)
    paid_on = forms.DateField(
        label=_("Received on"),
        # ISO, as a date field sends and shows it, whatever the page's language
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reference = forms.CharField(label=_("Cheque number or transfer reference"), max_length=60)
    key = forms.CharField(widget=forms.HiddenInput)


class SharesPaidForm(forms.Form):
    shares_paid = forms.IntegerField(label=_("Cooperative shares paid"), min_value=0)


def _payment_form(account: DuesAccount, data: QueryDict | None = None) -> DuesPaymentForm:
    unpaid = [row for row in account.rows if not row.is_paid]
    initial = {"key": secrets.token_urlsafe(16), "paid_on": timezone.localdate()}
    if unpaid:  # the oldest dues still owed, in full: what is usually received
        initial.update(invoice=unpaid[-1].invoice.pk, amount=unpaid[-1].remaining)
    form = DuesPaymentForm(data, initial=initial)
    rows = account.rows
    field = form.fields["invoice"]
    assert isinstance(field, forms.TypedChoiceField)
    field.choices = [
        (r.invoice.pk, f"{r.invoice.reference} — {r.invoice.service_date:%m/%Y} — {r.remaining} €")
        for r in rows
        if not r.is_paid
    ]
    return form


@practice_view
@require_GET
def membership(request: PracticeRequest) -> HttpResponse:
    require_practice(
        request.actor,
        PracticeAction.VIEW_MEMBERSHIP,
        request.practice.pk,
        target="cooperative:membership",
    )
    account = dues_account(request.practice.pk)
    record_event("cooperative.membership.read", actor=request.actor, target="membership")
    return render(
        request,
        "billing/membership.html",
        {"membership": practices.membership_of(request.practice.pk), "account": account},
    )


def _manager(request: AuthenticatedRequest, practice_id: int) -> Actor:
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target=f"practice:{practice_id}")
    return actor


@require_GET
def members_dues(request: AuthenticatedRequest) -> HttpResponse:
    """Every member practice with what it was invoiced, paid, owes and owes late."""
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target="cooperative:dues")
    rows = []
    for member in practices.cooperative_members():
        # Each practice's dues are its rows (row-level security): read within it.
        with tenancy.practice_context(member.practice_id, request.user.pk):
            rows.append((member, dues_account(member.practice_id)))
    record_event(
        "cooperative.dues.read",
        actor=actor,
        practice_id=None,
        target="cooperative:dues",
        details={"practices": len(rows)},
    )
    return render(request, "billing/members_dues.html", {"rows": rows})


def _member_page(
    request: AuthenticatedRequest,
    practice_id: int,
    form: DuesPaymentForm | None,
    status: int,
    shares_form: SharesPaidForm | None = None,
) -> HttpResponse:
    member = practices.membership_of(practice_id)
    if member is None:
        raise Http404(_("No such member practice."))
    # The dues are the practice's rows (row-level security): read within it, dues only.
    with tenancy.practice_context(practice_id, request.user.pk):
        account = dues_account(practice_id)
    context = {
        "membership": member,
        "account": account,
        "form": form or _payment_form(account),
        "shares_form": shares_form or SharesPaidForm(initial={"shares_paid": member.shares_paid}),
    }
    return render(request, "billing/member_dues.html", context, status=status)


@require_GET
def member_dues(request: AuthenticatedRequest, practice_id: int) -> HttpResponse:
    actor = _manager(request, practice_id)
    response = _member_page(request, practice_id, None, 200)
    record_event(
        "cooperative.member_dues.read",
        actor=actor,
        practice_id=None,
        target=f"practice:{practice_id}",
    )
    return response


@require_POST
def member_payment(request: AuthenticatedRequest, practice_id: int) -> HttpResponse:
    actor = _manager(request, practice_id)
    if practices.membership_of(practice_id) is None:
        raise Http404(_("No such member practice."))
    with tenancy.practice_context(practice_id, request.user.pk):
        account = dues_account(practice_id)
    form = _payment_form(account, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            dues_payment_record(
                actor=actor,
                practice_id=practice_id,
                invoice_id=data["invoice"],
                method=data["method"],
                amount=data["amount"],
                paid_on=data["paid_on"],
                reference=data["reference"],
                idempotency_key=data["key"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("The payment was recorded."))
            return redirect("cooperative-dues:member-dues", practice_id)
    return _member_page(request, practice_id, form, 400)


@require_POST
def member_shares(request: AuthenticatedRequest, practice_id: int) -> HttpResponse:
    """The shares paid up, when the money for them arrived."""
    actor = _manager(request, practice_id)
    if practices.membership_of(practice_id) is None:
        raise Http404(_("No such member practice."))
    form = SharesPaidForm(request.POST)
    if form.is_valid():
        try:
            shares_paid_set(
                actor=actor, practice_id=practice_id, shares_paid=form.cleaned_data["shares_paid"]
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("The shares paid were saved."))
            return redirect("cooperative-dues:member-dues", practice_id)
    return _member_page(request, practice_id, None, 400, shares_form=form)


class MonthForm(forms.Form):
    mois = forms.CharField(
        label=_("Month"),
        max_length=7,
        widget=forms.DateInput(attrs={"type": "month"}),
    )

    def clean_mois(self) -> date:
        try:
            return date.fromisoformat(f"{self.cleaned_data['mois']}-01")
        except ValueError as error:
            raise ValidationError(_("Give a month, as 2026-11.")) from error


def _month_form(data: QueryDict) -> MonthForm:
    this_month = timezone.localdate().strftime("%Y-%m")
    return MonthForm(data if "mois" in data else None, initial={"mois": this_month})


@require_http_methods(["GET", "POST"])
def dues_issue_page(request: AuthenticatedRequest) -> HttpResponse:
    """A month's dues: what would be issued, member by member, then issued once the
    cooperative administrator confirms (an issued invoice is never deleted)."""
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target="cooperative:dues")
    form = MonthForm(request.POST if request.method == "POST" else request.GET or None)
    if form.is_bound and form.is_valid():
        month = form.cleaned_data["mois"]
        if request.method == "POST":
            done = dues_issue_month(actor=actor, month=month)
            issued = [row for row in done if row.invoice is not None]
            messages.success(
                request,
                _("%(n)s dues invoices issued for %(month)s.")
                % {"n": len(issued), "month": f"{month:%m/%Y}"},
            )
            for row in done:
                if row.invoice is None:
                    messages.warning(request, f"{row.name} : {row.problem}")
            return redirect("cooperative-dues:members-dues")
        rows = dues_preview(actor=actor, month=month)
        to_issue = [row for row in rows if row.invoice is None and not row.problem]
        context = {
            "form": form,
            "month": month,
            "rows": rows,
            "to_issue": len(to_issue),
            "total": sum((row.amount for row in to_issue), Decimal("0.00")),
        }
        return render(request, "billing/dues_issue.html", context)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "billing/dues_issue.html",
        {"form": form if form.is_bound else _month_form(request.GET)},
        status=status,
    )


@require_GET
def cooperative_fec(request: AuthenticatedRequest) -> HttpResponse:
    """The cooperative's FEC of a month: its dues invoices and the payments it received."""
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target="cooperative:fec")
    form = MonthForm(request.GET)
    if form.is_valid():
        try:
            text, name = cooperative_fec_export(actor=actor, month=form.cleaned_data["mois"])
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            response = HttpResponse(text.encode(), content_type="text/plain; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(request, "billing/dues_issue.html", {"form": form, "fec": True}, status=400)
