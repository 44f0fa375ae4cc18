"""Billing pages for the secretary and the practitioner. Nothing here shows clinical
content: consultations appear by date, kind and practitioner only."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms import ChoiceField
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing import accounting, printing, reports, selectors, services
from billing.forms import (
    BankDetailsForm,
    CareSheetPrintForm,
    CloseDayForm,
    CreditNoteForm,
    InvoiceForm,
    PaymentForm,
)
from billing.models import Invoice, PrinterOffset
from billing.pricing import Coverage
from billing.services.exports import fec_export as fec_export_service
from billing.services.paper import invoice_paper_print
from billing.services.payments import remaining_due
from billing.suggest import suggested_codes, suggested_pathway
from core.access.policy import PracticeAction, decide_practice
from core.access.services import require_practice
from core.accounts.models import Membership, Person
from core.accounts.selectors import staff_of_practice
from core.audit.services import record_event
from core.documents.pdf import pdf_response, render_pdf
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records.selectors.billing import encounter_for_billing, encounters_to_bill, patient_for_billing
from records.selectors.care_time import care_time_links, care_time_readable
from records.services import care_time

logger = logging.getLogger(__name__)


def _practitioners(memberships: list[Membership]) -> list[tuple[int, str]]:
    seen: dict[int, str] = {}
    for membership in memberships:
        if membership.is_practitioner:
            seen[membership.person.pk] = membership.person.full_name
    return list(seen.items())


def _bills_in_own_name(request: PracticeRequest, memberships: list[Membership]) -> bool:
    """A practitioner of the practice (an active role) issues invoices in their name."""
    return any(
        m.person_id == request.user.pk and m.is_active and m.is_practitioner for m in memberships
    )


@practice_view
def patient_billing(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_billing(actor=request.actor, patient_id=patient_id)
    statement = selectors.patient_statement(patient.pk)
    billed = {invoice.encounter_id for invoice, _due in statement.invoices if invoice.encounter_id}
    encounters = [
        e for e in encounters_to_bill(actor=request.actor, patient=patient) if e.id not in billed
    ]
    people = dict(_practitioners(staff_of_practice(request.practice.pk)))
    today = timezone.localdate()
    return render(
        request,
        "billing/patient_billing.html",
        {
            "cover": selectors.cover_on(patient.pk, today),
            "today": today,
            "patient": patient,
            "statement": statement,
            "encounters": encounters,
            "people": people,
        },
    )


@practice_view
@require_http_methods(["GET", "POST"])
def invoice_new(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient = patient_for_billing(actor=request.actor, patient_id=patient_id)
    memberships = staff_of_practice(request.practice.pk)
    practitioners = _practitioners(memberships)
    initial: dict[str, object] = {"service_date": timezone.localdate(), "has_complementary": True}
    cover = selectors.cover_on(patient.pk, timezone.localdate())
    if cover is not None:  # what the attestation says, the desk may still change it
        initial.update(
            long_term_condition=cover.long_term_condition,
            has_complementary=cover.has_complementary,
            third_party_amo=cover.c2s or cover.ame,
            third_party_amc=cover.c2s or cover.ame,
        )
    # The consultation chosen on the patient's billing page fills the form; on saving,
    # the service checks the one the form names (billing.services._check_encounter).
    encounter_id = request.GET.get("consultation") if request.method == "GET" else None
    if encounter_id and str(encounter_id).isdigit():
        encounter = encounter_for_billing(
            actor=request.actor, patient=patient, encounter_id=int(encounter_id)
        )
        author = Person.objects.get(pk=encounter.author_id)
        issuer = services.issuer_for(author)
        day = timezone.localtime(encounter.occurred_at).date()
        initial.update(
            encounter=encounter.id,
            issuer=author.pk,
            service_date=day,
            codes=" ".join(
                suggested_codes(
                    kind=encounter.kind,
                    birth_date=patient.birth_date,
                    service_date=day,
                    sector=issuer.sector,
                )
            ),
        )
    elif _bills_in_own_name(request, memberships):
        initial["issuer"] = request.user.pk
    initial["pathway"] = suggested_pathway(
        birth_date=patient.birth_date,
        gp_id=patient.gp_id,
        issuer_id=initial.get("issuer"),
        day=timezone.localdate(),
    )
    belgian = request.practice.country.upper() == "BE"
    if belgian:  # the suggestions are French codes and the French care pathway
        initial.pop("codes", None)
        initial.pop("pathway", None)
    form = InvoiceForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        country=request.practice.country,
    )
    field = form.fields["issuer"]
    assert isinstance(field, ChoiceField)
    field.choices = practitioners
    # Making the invoice is documentation too: timed from the form served (records).
    opening = care_time.form_draft(
        actor=request.actor,
        posted=request.POST.get("draft", "") if request.method == "POST" else None,
        kind=care_time.ActKind.INVOICE,
        patient_id=patient.pk,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = Person.objects.filter(pk=data["issuer"]).first()
        if person is None or person.pk not in dict(practitioners):
            raise Http404(_("No such practitioner in this practice."))
        issuer = services.issuer_for(person)
        lines = services.lines_from_text(data["codes"])
        excess = data.get("excess") or Decimal("0")
        if excess:
            if "DE" in {line.code for line in lines}:
                lines = [
                    services.LineInput("DE", excess=excess) if line.code == "DE" else line
                    for line in lines
                ]
            elif lines:
                lines[0] = dataclasses.replace(lines[0], excess=excess)
        coverage = Coverage(
            long_term_condition=data.get("long_term_condition", False),
            has_complementary=data.get("has_complementary", False),
            third_party_amo=data["third_party_amo"],
            third_party_amc=data.get("third_party_amc", False),
            preferential=data.get("preferential", False),
        )
        try:
            with transaction.atomic():
                draft = services.invoice_draft(
                    actor=request.actor,
                    issuer=issuer,
                    patient_id=patient.pk,
                    birth_date=patient.birth_date,
                    service_date=data["service_date"],
                    lines=lines,
                    coverage=coverage,
                    encounter_id=data.get("encounter"),
                    country=request.practice.country,
                    national_number=patient.nir,
                    pathway=data.get("pathway") or "",
                )
                invoice = services.invoice_issue(actor=request.actor, invoice=draft)
                care_time.act_record(
                    actor=request.actor,
                    kind=care_time.ActKind.INVOICE,
                    token=opening,
                    patient_id=patient.pk,
                    entry_id=invoice.pk,
                )
            messages.success(request, _("Invoice %(ref)s issued.") % {"ref": invoice.reference})
            return redirect("billing:invoice", request.practice.slug, invoice.pk)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "billing/invoice_form.html",
        {"form": form, "patient": patient, "draft": opening},
        status=400 if request.method == "POST" else 200,
    )


def _invoice(request: PracticeRequest, invoice_id: int) -> tuple[Invoice, object]:
    invoice = Invoice.objects.select_related("issuer").filter(pk=invoice_id).first()
    if invoice is None or invoice.patient_id is None:
        raise Http404(_("No such invoice."))
    patient = patient_for_billing(actor=request.actor, patient_id=invoice.patient_id)
    return invoice, patient


@practice_view
@require_http_methods(["GET", "POST"])
def invoice_detail(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice, patient = _invoice(request, invoice_id)
    due = remaining_due(invoice)
    post = request.POST if request.method == "POST" else None
    payment = PaymentForm(post, initial={"amount": due, "idempotency_key": PaymentForm.new_key()})
    if post is not None and payment.is_valid():
        data = payment.cleaned_data
        try:
            with transaction.atomic():
                services.payment_record(actor=request.actor, invoice=invoice, **data)
            messages.success(request, _("Payment recorded."))
            return redirect("billing:invoice", request.practice.slug, invoice.pk)
        except ValidationError as error:
            attach_service_errors(payment, error)
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "patient": patient,
            "due": due,
            "payment": payment,
            "credit": CreditNoteForm(),
            "allocations": invoice.allocations.select_related("payment"),
            "print_choice": CareSheetPrintForm(printers=selectors.printer_offsets()),
        },
        status=400 if post is not None else 200,
    )


@practice_view
@require_POST
def invoice_credit(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice, _patient = _invoice(request, invoice_id)
    form = CreditNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the invoice is cancelled."))
        return redirect("billing:invoice", request.practice.slug, invoice.pk)
    try:
        with transaction.atomic():
            note = services.credit_note_issue(
                actor=request.actor, invoice=invoice, reason=form.cleaned_data["reason"]
            )
        messages.success(request, _("Credit note %(ref)s issued.") % {"ref": note.reference})
        return redirect("billing:invoice", request.practice.slug, note.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("billing:invoice", request.practice.slug, invoice.pk)


@practice_view
def care_sheet_pdf(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """On plain paper (``support=blanc``, the default) or over the pre-printed form
    (``support=preimprime`` or ``preimprime-<printer>``, with that printer's correction)."""
    choice = CareSheetPrintForm(
        {"support": request.GET.get("support") or "blanc"},
        printers=selectors.printer_offsets(),
    )
    if not choice.is_valid():
        return HttpResponseBadRequest(
            _("Choose plain paper or the pre-printed form, with one of the practice's printers."),
            content_type="text/plain; charset=utf-8",
        )
    support = choice.cleaned_data["support"]
    offset = None
    if support.startswith("preimprime-"):
        offset = selectors.printer_offset(int(support.removeprefix("preimprime-")))
    return _paper(
        request,
        invoice_id,
        "care_sheet",
        preprinted=support.startswith("preimprime"),
        offset=offset,
    )


@practice_view
def receipt_pdf(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    return _paper(request, invoice_id, "receipt")


def _paper(
    request: PracticeRequest,
    invoice_id: int,
    document: str,
    *,
    preprinted: bool = False,
    offset: PrinterOffset | None = None,
) -> HttpResponse:
    invoice, patient = _invoice(request, invoice_id)
    pdf, name = invoice_paper_print(
        actor=request.actor,
        practice=request.practice,
        invoice=invoice,
        patient=patient,
        document=document,
        preprinted=preprinted,
        offset=offset,
    )
    return pdf_response(pdf, name)


def _day(request: PracticeRequest) -> date:
    raw = request.GET.get("jour", "")
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError as error:
        raise Http404(_("Not a date.")) from error


def _may(request: PracticeRequest, action: PracticeAction) -> bool:
    return decide_practice(request.actor, action, request.practice.pk).allowed


def _require_cash_book(request: PracticeRequest) -> None:
    if not _may(request, PracticeAction.KEEP_CASH_BOOK):
        raise Http404


@practice_view
def cash_day(request: PracticeRequest) -> HttpResponse:
    _require_cash_book(request)
    day = _day(request)
    journal = selectors.cash_journal(day)
    accounts = [
        (person_id, name, selectors.issuer_account(person_id))
        for person_id, name in _practitioners(staff_of_practice(request.practice.pk))
        if decide_practice(
            request.actor,
            PracticeAction.MANAGE_BILLING_DETAILS,
            request.practice.pk,
            subject_id=person_id,
        ).allowed
    ]
    return render(
        request,
        "billing/cash_day.html",
        {
            "journal": journal,
            "day": day,
            "groups": selectors.deposit_groups(journal),
            "accounts": accounts,
            "may_calibrate": _may(request, PracticeAction.MANAGE_BILLING_DETAILS),
        },
    )


@practice_view
@require_http_methods(["GET", "POST"])
def cash_day_close(request: PracticeRequest) -> HttpResponse:
    """Closing cannot be undone: the page shows the day's totals by method and each
    issuer's cheques with the account they go to, and closes only once confirmed."""
    _require_cash_book(request)
    day = _day(request)
    form = CloseDayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.day_close(actor=request.actor, day=day)
            messages.success(request, _("The day is closed."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(f"{reverse('billing:cash-day', args=[request.practice.slug])}?jour={day}")
    journal = selectors.cash_journal(day)
    return render(
        request,
        "billing/cash_day_close.html",
        {
            "journal": journal,
            "day": day,
            "form": form,
            "groups": selectors.deposit_groups(journal),
        },
        status=400 if form.is_bound else 200,
    )


@practice_view
def cash_day_pdf(request: PracticeRequest, document: str) -> HttpResponse:
    _require_cash_book(request)
    day = _day(request)
    journal = selectors.cash_journal(day)
    if document == "bordereau":
        groups = selectors.deposit_groups(journal)
        issuer = request.GET.get("emetteur", "")
        if issuer:  # one issuer's slip only
            groups = [group for group in groups if str(group.issuer_id) == issuer]
            if not groups:
                raise Http404(_("No cheque for this payee on that day."))
        pdf = printing.deposit_slip(practice=request.practice, journal=journal, groups=groups)
    else:
        pdf = printing.closing_report(practice=request.practice, journal=journal)
    record_event(
        f"cash_day.print_{document}", actor=request.actor, target=f"cash_day:{day.isoformat()}"
    )
    return pdf_response(pdf, f"{document}-{day.isoformat()}.pdf")


@practice_view
@require_http_methods(["GET", "POST"])
def bank_details(request: PracticeRequest, person_id: int) -> HttpResponse:
    """The account a practitioner's cheques are paid into, printed on their slips."""
    if person_id not in dict(_practitioners(staff_of_practice(request.practice.pk))):
        raise Http404(_("No such practitioner in this practice."))
    require_practice(  # a refusal is audited, then 403
        request.actor,
        PracticeAction.MANAGE_BILLING_DETAILS,
        request.practice.pk,
        target=f"issuer:{person_id}:bank",
        subject_id=person_id,
    )
    person = Person.objects.get(pk=person_id)
    issuer = services.issuer_for(person)
    initial = {"bank_name": issuer.bank_name, "iban": issuer.iban}
    form = BankDetailsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.issuer_bank_details_set(
                actor=request.actor, person=person, **form.cleaned_data
            )
            messages.success(request, _("The bank details are saved."))
            return redirect("billing:cash-day", request.practice.slug)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "billing/bank_details.html",
        {"form": form, "person": person},
        status=400 if form.is_bound else 200,
    )


def _month(request: PracticeRequest) -> date:
    raw = request.GET.get("mois", "")
    try:
        return date.fromisoformat(f"{raw}-01") if raw else timezone.localdate().replace(day=1)
    except ValueError as error:
        raise Http404(_("Not a month.")) from error


@practice_view
def care_work_report(request: PracticeRequest) -> HttpResponse:
    """Per practitioner: consultations, documentation time, fees. No patient is named."""
    if not _may(request, PracticeAction.VIEW_CARE_WORK):
        raise PermissionDenied(_("Practitioners and practice administrators see this report."))
    month = _month(request)
    lines = reports.care_work(month)
    record_event("report.care_work", actor=request.actor, target=f"month:{month:%Y-%m}")
    # Documentation time is each practitioner's own unless they share it (the policy):
    # the other lines show their consultations and fees, not their time.
    visible = {person.pk for person in care_time_readable(request.actor)}
    context = {
        "lines": lines,
        "month": month,
        "practice": request.practice,
        "visible": visible,
        "links": care_time_links(request.actor),
    }
    if request.GET.get("format") == "pdf":
        return pdf_response(
            render_pdf("billing/pdf/care_work.html", context), f"saisie-{month:%Y-%m}.pdf"
        )
    return render(request, "billing/care_work.html", context)


@practice_view
def fec_export(request: PracticeRequest) -> HttpResponse:
    if not _may(request, PracticeAction.EXPORT_ACCOUNTS):
        raise PermissionDenied
    try:
        text, name = fec_export_service(actor=request.actor, month=_month(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("billing:care-work", request.practice.slug)
    response = HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@practice_view
def csv_export(request: PracticeRequest) -> HttpResponse:
    if not _may(request, PracticeAction.EXPORT_ACCOUNTS):
        raise PermissionDenied
    month = _month(request)
    start, end = reports.month_bounds(month)
    record_event("accounting.export_csv", actor=request.actor, target=f"month:{month:%Y-%m}")
    response = HttpResponse(
        accounting.csv_text(start, end).encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ecritures-{month:%Y-%m}.csv"'
    return response


@practice_view
def dues_list(request: PracticeRequest) -> HttpResponse:
    """The member practice's invoices from the cooperative (practice admins)."""
    if not _may(request, PracticeAction.VIEW_DUES):
        raise PermissionDenied(_("Practice administrators see the cooperative's invoices."))
    invoices = Invoice.objects.filter(kind=Invoice.Kind.DUES).order_by("-service_date")
    if request.GET.get("pdf", "").isdigit():
        invoice = invoices.filter(pk=int(request.GET["pdf"])).first()
        if invoice is None:
            raise Http404(_("No such invoice."))
        pdf = render_pdf(
            "billing/pdf/dues.html",
            {"invoice": invoice, "practice": request.practice, "lines": list(invoice.lines.all())},
        )
        return pdf_response(pdf, f"cotisation-{invoice.reference}.pdf")
    return render(request, "billing/dues.html", {"invoices": invoices})
