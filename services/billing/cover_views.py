"""The patient's insurance cover at the desk: what is in force, its history, and a new
state recorded from the attestation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing import selectors, services
from billing.forms import CoverForm
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records.selectors.billing import patient_for_billing, patient_for_cover


@practice_view
@require_http_methods(["GET", "POST"])
def cover(request: PracticeRequest, patient_id: int) -> HttpResponse:
    if request.method == "POST":
        patient = patient_for_cover(actor=request.actor, patient_id=patient_id)
        form = CoverForm(request.POST)
        if form.is_valid():
            try:
                services.cover_record(
                    actor=request.actor,
                    patient_id=patient.pk,
                    values=services.CoverInput(**form.cleaned_data),
                )
                messages.success(request, _("The cover is recorded."))
                return redirect("billing:cover", request.practice.slug, patient.pk)
            except ValidationError as error:
                attach_service_errors(form, error)
        # The form comes back with the history beside it: a read, audited as one.
        patient = patient_for_billing(actor=request.actor, patient_id=patient_id)
    else:
        # A read of the patient's administrative data for billing (audited by the policy).
        patient = patient_for_billing(actor=request.actor, patient_id=patient_id)
    history = selectors.cover_history(patient.pk)
    if request.method == "GET":
        current = history[0] if history else None
        initial = (
            {field: getattr(current, field) for field in CoverForm.base_fields}
            if current
            else {"rights_from": timezone.localdate()}
        )
        form = CoverForm(initial=initial)
    return render(
        request,
        "billing/cover.html",
        {"patient": patient, "history": history, "form": form, "today": timezone.localdate()},
        status=400 if form.is_bound else 200,
    )
