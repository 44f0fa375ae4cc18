"""Pages of the patient's care team: the list, adding and removing a member.

The team is administrative data of the patient: the practice's staff read and change
it, through the policy (refusals audited), each change audited (``care_team.add``,
``care_team.remove``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.access.policy import Action, Category, Purpose
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records import access as records_access
from records import services
from records.models import Patient
from records.selectors.care_team import care_team_for
from records.selectors.patients import patient_with_access


class MemberForm(forms.Form):
    person = forms.IntegerField(
        label=gettext_lazy("Clinician"),
        error_messages={"required": gettext_lazy("Choose a clinician.")},
    )
    back = forms.ChoiceField(choices=[("team", "team"), ("chart", "chart")], required=False)


@practice_view
@require_GET
def care_team(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient, team = care_team_for(actor=request.actor, patient_id=patient_id)
    return render(request, "records/care_team.html", {"patient": patient, "team": team})


def _patient_for_change(request: PracticeRequest, patient_id: int) -> Patient:
    """The patient (404 if not of this practice), if the actor may change their
    administrative data: the decision is audited (``patient.write``, or a refusal and
    403) before the form is read, as on the patient's choices page."""
    patient, access = patient_with_access(patient_id)
    records_access.require(
        request.actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.ADMINISTRATION,
        access=access,
    )
    return patient


def _change(request: PracticeRequest, patient_id: int, *, adding: bool) -> HttpResponse:
    patient = _patient_for_change(request, patient_id)
    form = MemberForm(request.POST)
    if form.is_valid():
        change = services.care_team_add if adding else services.care_team_remove
        try:
            with transaction.atomic():
                change(actor=request.actor, patient=patient, person_id=form.cleaned_data["person"])
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Added to the care team.") if adding else _("Removed from the care team."),
            )
            back = "records:chart" if form.cleaned_data["back"] == "chart" else "records:care-team"
            return redirect(back, request.practice.slug, patient.pk)
    _patient, team = care_team_for(actor=request.actor, patient_id=patient.pk)
    return render(
        request,
        "records/care_team.html",
        {"patient": patient, "team": team, "errors": form.errors},
        status=400,
    )


@practice_view
@require_POST
def care_team_add(request: PracticeRequest, patient_id: int) -> HttpResponse:
    return _change(request, patient_id, adding=True)


@practice_view
@require_POST
def care_team_remove(request: PracticeRequest, patient_id: int) -> HttpResponse:
    return _change(request, patient_id, adding=False)
