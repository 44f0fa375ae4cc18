"""Printing the feuille de soins over the official pre-printed form: the printers'
corrections, measured from a test print, and the test print itself. Only who may change
the practice's billing details (its administrators, core/access/policy.py) calibrates;
whoever prints a care sheet chooses plain paper or the pre-printed form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from billing import printing, selectors, services
from billing.forms import PrinterOffsetForm
from core.access.policy import PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event
from core.documents.pdf import pdf_response
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view


def _require_calibration(request: PracticeRequest) -> None:
    require_practice(  # a refusal is audited, then 403
        request.actor,
        PracticeAction.MANAGE_BILLING_DETAILS,
        request.practice.pk,
        target="printer_offsets",
    )


@practice_view
@require_http_methods(["GET", "POST"])
def printer_offsets(request: PracticeRequest) -> HttpResponse:
    _require_calibration(request)
    printers = selectors.printer_offsets()
    # the form starts from the first printer (most practices have one) or a new one
    first = printers[0] if printers else None
    initial = (
        {"printer": first.printer, "x_mm": first.x_mm, "y_mm": first.y_mm}
        if first
        else {"printer": _("Reception"), "x_mm": "0", "y_mm": "0"}
    )
    form = PrinterOffsetForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            offset = services.printer_offset_save(
                actor=request.actor, practice_id=request.practice.pk, **form.cleaned_data
            )
            messages.success(
                request,
                _("The correction of the printer %(name)s is saved.") % {"name": offset.printer},
            )
            return redirect("billing:printer-offsets", request.practice.slug)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "billing/printer_offsets.html",
        {"form": form, "printers": printers},
        status=400 if form.is_bound else 200,
    )


@practice_view
@require_GET
def printer_test(request: PracticeRequest) -> HttpResponse:
    """The calibration page, with a printer's current correction (or none)."""
    _require_calibration(request)
    raw = request.GET.get("imprimante", "")
    offset = None
    if raw:
        offset = selectors.printer_offset(int(raw)) if raw.isdigit() else None
        if offset is None:
            raise Http404(_("No such printer in this practice."))
    pdf = printing.care_sheet_test(offset=offset)
    record_event(
        "printer.test_print",
        actor=request.actor,
        target=f"printer:{offset.pk}" if offset else "printer:none",
    )
    return pdf_response(pdf, "feuille-de-soins-essai.pdf")
