"""The report of documentation time: a practitioner's month (page, PDF, CSV), the
sharing switch, and the practice's totals for its administrators. The rules of who
reads whose figures are the policy's (``decide_care_time``), asked by the selectors."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.fec import escape_text
from billing.views import _month
from core.documents.pdf import pdf_response, render_pdf
from core.practices.context import PracticeRequest, practice_view
from records.selectors import care_time as selectors
from records.services import care_time


def minutes(seconds: int | None) -> str:
    """Minutes with one decimal, French style (12,5); empty when nothing was measured."""
    if seconds is None:
        return ""
    return f"{seconds / 60:.1f}".replace(".", ",")


def _csv(report: selectors.CareTimeReport) -> str:
    """Semicolons and comma decimals for a French spreadsheet; every text cell through
    the accounting export's escaping (no cell can start a formula)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            escape_text(_("Practitioner")),
            escape_text(_("Month")),
            escape_text(_("Kind of act")),
            escape_text(_("Acts")),
            escape_text(_("Measured minutes")),
            escape_text(_("Declared minutes (not measured)")),
        ]
    )
    month = f"{report.month:%Y-%m}"
    for line in report.kinds:
        writer.writerow(
            [
                escape_text(report.practitioner.full_name),
                month,
                escape_text(line.label),
                line.acts,
                minutes(line.measured_seconds),
                minutes(line.declared_seconds),
            ]
        )
    return out.getvalue()


def _rows(kinds: list[selectors.KindLine]) -> list[dict[str, object]]:
    return [
        {
            "label": line.label,
            "acts": line.acts,
            "measured": minutes(line.measured_seconds),
            "declared": minutes(line.declared_seconds) if line.declared_seconds else "",
            "unmeasured": line.unmeasured,
            "capped": line.capped,
        }
        for line in kinds
        if line.acts
    ]


def _consultations(report: selectors.CareTimeReport) -> list[dict[str, object]]:
    return [
        {
            "at": timezone.localtime(line.saved_at),
            "documentation": minutes(line.documentation_seconds),
            "visit": minutes(line.visit_seconds),
            "declared": minutes(line.declared_seconds),
        }
        for line in report.consultations
    ]


@practice_view
def care_time_report(request: PracticeRequest) -> HttpResponse:
    month = _month(request)
    raw = request.GET.get("praticien", "")
    practitioner_id = int(raw) if raw.isdigit() and len(raw) < 12 else request.actor.person_id
    report = selectors.care_time_report(
        actor=request.actor, practitioner_id=practitioner_id, month=month
    )
    context = {
        "report": report,
        "month": month,
        "practice": request.practice,
        "readable": selectors.care_time_readable(request.actor),
        "own": practitioner_id == request.actor.person_id,
        "printed_at": timezone.localtime(),
        "rows": _rows(report.kinds),
        "consultations": _consultations(report),
        "total": minutes(report.measured_seconds),
        "declared": minutes(report.declared_seconds) if report.declared_seconds else "",
        "per_patient": minutes(report.per_patient_seconds),
        "working": minutes(report.working_seconds),
    }
    if request.GET.get("format") == "pdf":
        pdf = render_pdf("billing/pdf/care_time.html", context)
        return pdf_response(pdf, f"temps-de-saisie-{month:%Y-%m}.pdf")
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            _csv(report).encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="temps-de-saisie-{month:%Y-%m}.csv"'
        )
        return response
    return render(request, "billing/care_time.html", context)


@practice_view
@require_POST
def care_time_share(request: PracticeRequest) -> HttpResponse:
    shared = request.POST.get("shared") == "1"
    care_time.care_time_share(actor=request.actor, shared=shared)
    messages.success(
        request,
        _("Your figures are shown to the practice's practitioners.")
        if shared
        else _("Your figures are yours alone."),
    )
    return redirect("billing:care-time", request.practice.slug)


@practice_view
def care_time_practice(request: PracticeRequest) -> HttpResponse:
    month = _month(request)
    summary = selectors.care_time_practice(actor=request.actor, month=month)
    context = {
        "summary": summary,
        "month": month,
        "rows": _rows(summary.kinds),
        "total": minutes(summary.measured_seconds),
        "declared": minutes(summary.declared_seconds) if summary.declared_seconds else "",
        "working": minutes(summary.working_seconds),
    }
    return render(request, "billing/care_time_practice.html", context)
