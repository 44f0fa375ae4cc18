"""Tiers payant pages: what each insurer owes (the aging report, on screen and in
PDF), an insurer's transfer recorded by hand against its open invoices, and a
rejection noted on an invoice. The desk, practice admins and practitioners (the cash
book, in the policy); each patient named is audited once per page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import services
from billing.forms import InsurerPaymentForm, PaymentForm, RejectionForm
from billing.selectors.receivables import (
    BUCKETS,
    Receivable,
    aging_report,
    patients_named,
    receivables,
)
from billing.views import _invoice, _require_cash_book
from core.documents.money import money_text
from core.documents.pdf import pdf_response, render_pdf
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view


def _names(request: PracticeRequest, shares: list[Receivable]) -> dict[int, str]:
    return patients_named(request.actor, shares)


@practice_view
def aging(request: PracticeRequest) -> HttpResponse:
    _require_cash_book(request)
    today = timezone.localdate()
    report = aging_report(today)
    shares = [share for insurer in report for share in insurer.receivables]
    context = {
        "report": report,
        "buckets": BUCKETS,
        "names": _names(request, shares),
        "today": today,
        "practice": request.practice,
        "total": sum((insurer.total for insurer in report), Decimal("0.00")),
    }
    if request.GET.get("format") == "pdf":
        return pdf_response(
            render_pdf("billing/pdf/tiers_payant.html", context),
            f"tiers-payant-{today.isoformat()}.pdf",
        )
    return render(request, "billing/tiers_payant.html", context)


def _allocations(request: PracticeRequest) -> tuple[dict[int, Decimal], str]:
    chosen: dict[int, Decimal] = {}
    for raw in request.POST.getlist("facture"):
        if not raw.isdigit():
            return {}, _("An invoice chosen is not owed by this insurer.")
        try:
            chosen[int(raw)] = Decimal(request.POST.get(f"montant_{raw}", "").replace(",", "."))
        except InvalidOperation:
            return {}, _("Give the amount settled on each invoice chosen.")
        if not chosen[int(raw)].is_finite():
            return {}, _("Give the amount settled on each invoice chosen.")
    return chosen, ""


@practice_view
@require_http_methods(["GET", "POST"])
def insurer_payment(request: PracticeRequest) -> HttpResponse:
    _require_cash_book(request)
    insurer = request.GET.get("organisme", "")
    shares = receivables(timezone.localdate(), insurer_code=insurer) if insurer else []
    post = request.POST if request.method == "POST" else None
    form = InsurerPaymentForm(
        post,
        initial={"paid_on": timezone.localdate(), "idempotency_key": PaymentForm.new_key()},
    )
    chosen: dict[int, Decimal] = {}
    if post is not None and not shares:
        form.add_error(None, _("This insurer owes nothing: no payment to record."))
    elif post is not None and form.is_valid():
        chosen, problem = _allocations(request)
        if problem:
            form.add_error(None, problem)
        else:
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    result = services.insurer_payment_record(
                        actor=request.actor,
                        insurer_code=insurer,
                        paid_on=data["paid_on"],
                        amount=data["amount"],
                        reference=data["reference"],
                        allocations=chosen,
                        idempotency_key=data["idempotency_key"],
                    )
            except ValidationError as error:
                _attach(form, error)
            else:
                messages.success(request, _("Payment recorded."))
                if result.unallocated:
                    messages.warning(
                        request,
                        _("%(amount)s of this payment are not allocated to any invoice.")
                        % {"amount": money_text(result.unallocated)},
                    )
                return redirect("billing:tiers-payant", request.practice.slug)
    return render(
        request,
        "billing/insurer_payment.html",
        {
            "form": form,
            "insurer": insurer,
            "insurer_name": shares[0].insurer_name if shares else "",
            "shares": shares,
            "names": _names(request, shares),
            "chosen": {pk: str(amount) for pk, amount in chosen.items()},
        },
        status=400 if post is not None else 200,
    )


def _attach(form: InsurerPaymentForm, error: ValidationError) -> None:
    """Errors on the invoices chosen or the insurer belong to the whole form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        attach_service_errors(form, error)


@practice_view
@require_POST
def rejection(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """Noted from the invoice; bad input answers 400 with the form and its errors."""
    _require_cash_book(request)
    invoice, patient = _invoice(request, invoice_id)
    form = RejectionForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.rejection_note(actor=request.actor, invoice=invoice, **form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("The rejection is noted; the share stays owed."))
            return redirect(reverse("billing:invoice", args=[request.practice.slug, invoice.pk]))
    return render(
        request,
        "billing/rejection.html",
        {"form": form, "invoice": invoice, "patient": patient},
        status=400,
    )
