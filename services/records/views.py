"""Patient pages: search and the identity sheet."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.access.policy import Action, Category
from core.practices.context import PracticeRequest, practice_view
from records import access, selectors


@practice_view
def patient_list(request: PracticeRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:200]
    patients = selectors.patient_search(actor=request.actor, query=query)
    template = (
        "records/_patient_rows.html"
        if request.headers.get("HX-Request")
        else "records/patient_list.html"
    )
    return render(request, template, {"patients": patients, "query": query})


@practice_view
def patient_detail(request: PracticeRequest, patient_id: int) -> HttpResponse:
    actor = request.actor
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    clinical = access.check(actor, Action.READ, Category.CLINICAL, patient, audit_success=False)
    return render(
        request,
        "records/patient_detail.html",
        {
            "patient": patient,
            "clinical_allowed": clinical.allowed,
            "clinical_reason": clinical.reason,
        },
    )
