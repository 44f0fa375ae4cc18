"""The laboratory results pages: the practitioner's "to read" list and each report (its
values, ranges and flags, the trend of each repeated analysis, the sign-off); the
reception — upload, the matching queue (identity only, never a value), the files
refused, and for the practice's administrators the results unread after three days."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.access.policy import PracticeAction, decide_practice
from core.accounts.selectors import clinicians_of_practice
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from lab import selectors, services
from lab.forms import MatchForm, SignOffForm, UploadForm
from lab.models import Source
from records.selectors.lab import candidates, patients_with_identity
from records.selectors.patients import patient_search
from records.services import care_time


@practice_view
@require_GET
def to_read(request: PracticeRequest) -> HttpResponse:
    return render(request, "lab/to_read.html", {"rows": selectors.to_read(request.actor)})


def _reception(request: PracticeRequest, form: UploadForm, status: int = 200) -> HttpResponse:
    actor = request.actor
    context = {
        "form": form,
        "queue": selectors.matching_queue(actor),
        "overdue": selectors.overdue(actor)
        if decide_practice(actor, PracticeAction.REVIEW_LAB_BACKLOG, request.practice.pk).allowed
        else None,
    }
    return render(request, "lab/reception.html", context, status=status)


def _say(request: PracticeRequest, received: services.Received) -> None:
    """What became of one message of the file, in the page's messages."""
    lab_file = received.file
    name = lab_file.filename
    if received.already:
        messages.info(
            request, _("%(name)s was already received: nothing was changed.") % {"name": name}
        )
    elif lab_file.status == "filed":
        messages.success(
            request, _("%(name)s: the results are filed in the patient's chart.") % {"name": name}
        )
    elif lab_file.status == "to_match":
        messages.warning(
            request,
            _("%(name)s: the results wait for a person to choose the patient: %(reason)s")
            % {"name": name, "reason": lab_file.reason},
        )
    else:
        messages.error(
            request,
            _("%(name)s was refused: %(reason)s") % {"name": name, "reason": lab_file.reason},
        )


@practice_view
@require_http_methods(["GET", "POST"])
def reception(request: PracticeRequest) -> HttpResponse:
    if request.method != "POST":
        selectors.matching_queue(request.actor)  # the policy first: 403 before any form
        return _reception(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    selectors.matching_queue(request.actor)
    if not form.is_valid():
        return _reception(request, form, status=400)
    upload = form.cleaned_data["file"]
    for received in services.receive_file(
        actor=request.actor,
        practice_id=request.practice.pk,
        raw=upload.read(),
        filename=upload.name or "",
        source=Source.UPLOAD,
    ):
        _say(request, received)
    return redirect("lab:reception", request.practice.slug)


@practice_view
@require_http_methods(["GET", "POST"])
def match(request: PracticeRequest, lab_file_id: int) -> HttpResponse:
    actor = request.actor
    row = selectors.lab_file_for_matching(actor, lab_file_id)
    if row is None or row.status != "to_match":
        raise Http404(_("No such file waiting to be matched."))
    practitioners = [(p.pk, p.full_name) for p in clinicians_of_practice(request.practice.pk)]
    form = MatchForm(request.POST or None, practitioners=practitioners)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.match(
                    actor=actor,
                    lab_file_id=lab_file_id,
                    patient_id=form.cleaned_data["patient"],
                    practitioner_id=form.cleaned_data["practitioner"],
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("The results are filed in the patient's chart."))
                return redirect("lab:reception", request.practice.slug)
        status = 400
    query = request.GET.get("q", "").strip() or f"{row.family} {row.given}".strip()
    by_identity, by_nir = patients_with_identity(
        family=row.family, given=row.given, birth_date=row.birth_date, nir=row.nir
    )
    found = patient_search(actor=actor, query=query, limit=20) if query else []
    # Those carrying the identity or the NIR first, then what the search found.
    shown = candidates([c.id for c in (*by_identity, *by_nir)] + [p.pk for p in found])
    context = {
        "row": row,
        "form": form,
        "query": query,
        "candidates": shown,
        "exact": {c.id for c in by_identity},
        "same_nir": {c.id for c in by_nir},
    }
    return render(request, "lab/match.html", context, status=status)


@practice_view
@require_http_methods(["GET", "POST"])
def report(request: PracticeRequest, lab_file_id: int) -> HttpResponse:
    form = SignOffForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.sign_off(
                    actor=request.actor,
                    lab_file_id=lab_file_id,
                    conclusion=form.cleaned_data["conclusion"],
                    note=form.cleaned_data["note"],
                    draft=request.POST.get("draft", ""),
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("Results signed off."))
                return redirect("lab:to-read", request.practice.slug)
        status = 400
    lab_file, shown = services.report_open(actor=request.actor, lab_file_id=lab_file_id)
    # The time to read and sign off counts from the page served (records' care time).
    draft = care_time.form_draft(
        actor=request.actor,
        posted=request.POST.get("draft", "") if request.method == "POST" else None,
        kind=care_time.ActKind.LAB_RESULT,
        patient_id=lab_file.patient_id,
    )
    context = {"file": lab_file, "report": shown, "form": form, "draft": draft}
    return render(request, "lab/report.html", context, status=status)
