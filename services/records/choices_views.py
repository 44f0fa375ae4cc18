"""Pages for the patient's choices (exclusions, sensitive labels), emergency access, and
the practice's review of emergency accesses."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import choices, selectors
from core.access.models import BreakGlass, LabelGrant, Restriction, SensitivityLabel
from core.access.policy import Action, Category, PracticeAction, Purpose
from core.access.services import require_practice
from core.accounts.selectors import staff_of_practice
from core.audit.services import record_event
from core.documents.pdf import pdf_response
from core.practices.context import PracticeRequest, practice_view
from records import access as records_access
from records.break_glass_letter import break_glass_letter_pdf
from records.models import Encounter, Patient, Problem
from records.selectors.identity import patients_named


class ExclusionForm(forms.Form):
    person = forms.TypedChoiceField(label=gettext_lazy("Person to exclude"), coerce=int)
    entry = forms.ChoiceField(label=gettext_lazy("From"), required=False)
    source = forms.CharField(
        label=gettext_lazy("How the patient asked (e.g. signed form no.)"), max_length=200
    )
    reason = forms.CharField(
        label=gettext_lazy("Patient's words (optional)"), required=False, max_length=500
    )


class LabelGrantForm(forms.Form):
    person = forms.TypedChoiceField(label=gettext_lazy("Person allowed"), coerce=int)
    label = forms.ChoiceField(
        label=gettext_lazy("Sensitive label"), choices=SensitivityLabel.choices
    )
    source = forms.CharField(
        label=gettext_lazy("How the patient asked (e.g. signed form no.)"), max_length=200
    )


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the emergency access"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _patient(request: PracticeRequest, patient_id: int) -> Patient:
    """The patient whose choices the actor may record (a refusal is audited). Each
    change is recorded by the service that makes it; showing the page, by the page."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    records_access.require(
        request.actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.ADMINISTRATION,
        audit_success=False,
    )
    return patient


def _shown(request: PracticeRequest, patient: Patient) -> None:
    """The page shows the patient's choices: a read of administrative data (not a
    change: the patient's access report says "looked at your administrative file")."""
    record_event(
        "patient.read",
        actor=request.actor,
        patient_id=patient.pk,
        category=Category.ADMINISTRATIVE.value,
        purpose=Purpose.ADMINISTRATION.value,
        target=f"patient:{patient.pk}",
        details={"view": "choices"},
    )


def _entry_choices(request: PracticeRequest, patient: Patient) -> list[tuple[str, str]]:
    access = records_access.access_for(patient)
    entries: list = list(Problem.objects.filter(patient=patient, status="active")[:100])
    entries += list(
        Encounter.objects.filter(patient=patient, status="active").order_by("-occurred_at")[:100]
    )
    options = [("", _("the whole record"))]
    for entry in entries:
        if records_access.may_see_entry(request.actor, access, entry):
            options.append((f"{entry.ENTRY_TYPE}:{entry.pk}", str(entry)))
    return options


def _set_choices(form: forms.Form, name: str, options: list) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = options


def _named(grants: Iterable[LabelGrant]) -> list[LabelGrant]:
    """The grants with their label in words (``label_name``)."""
    names = dict(SensitivityLabel.choices)
    shown = list(grants)
    for grant in shown:
        grant.label_name = names.get(grant.label, grant.label)  # type: ignore[attr-defined]
    return shown


@practice_view
@require_http_methods(["GET", "POST"])
def patient_choices(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id)
    people = [(m.person.pk, m.person.full_name) for m in staff_of_practice(request.practice.pk)]
    people = list(dict(people).items())
    post = request.POST if request.method == "POST" else None
    exclusion = ExclusionForm(post if post and "exclude" in post else None)
    grant = LabelGrantForm(post if post and "grant" in post else None)
    _set_choices(exclusion, "person", people)
    _set_choices(exclusion, "entry", _entry_choices(request, patient))
    _set_choices(grant, "person", people)
    try:
        with transaction.atomic():
            if post and "exclude" in post and exclusion.is_valid():
                data = exclusion.cleaned_data
                entry_type, _sep, entry_id = data["entry"].partition(":")
                choices.restriction_add(
                    actor=request.actor,
                    patient_id=patient.pk,
                    person_id=data["person"],
                    source=data["source"],
                    reason=data["reason"],
                    entry_type=entry_type,
                    entry_id=int(entry_id) if entry_id else None,
                )
                messages.success(request, _("The patient's choice is recorded."))
                return redirect("records:patient-choices", request.practice.slug, patient.pk)
            if post and "grant" in post and grant.is_valid():
                choices.label_grant_add(
                    actor=request.actor, patient_id=patient.pk, **grant.cleaned_data
                )
                messages.success(request, _("The patient's choice is recorded."))
                return redirect("records:patient-choices", request.practice.slug, patient.pk)
    except ValidationError as error:
        exclusion.add_error(None, error.messages)
    _shown(request, patient)
    return render(
        request,
        "records/patient_choices.html",
        {
            "patient": patient,
            "exclusion": exclusion,
            "grant": grant,
            "restrictions": selectors.restrictions_of(patient.pk),
            "grants": _named(selectors.label_grants_of(patient.pk)),
            "break_glass": selectors.break_glass_of(patient.pk),
        },
        status=400 if post else 200,
    )


@practice_view
@require_POST
def restriction_lift(
    request: PracticeRequest, patient_id: int, restriction_id: int
) -> HttpResponse:
    patient = _patient(request, patient_id)
    restriction = Restriction.objects.filter(pk=restriction_id, patient_id=patient.pk).first()
    if restriction is None:
        raise Http404(_("No such restriction."))
    choices.restriction_revoke(actor=request.actor, restriction=restriction)
    messages.success(request, _("The exclusion is lifted."))
    return redirect("records:patient-choices", request.practice.slug, patient.pk)


@practice_view
@require_POST
def label_grant_revoke(request: PracticeRequest, patient_id: int, grant_id: int) -> HttpResponse:
    """The patient withdraws a permission to see a sensitive label (effective on the
    person's next request)."""
    patient = _patient(request, patient_id)
    grant = LabelGrant.objects.filter(pk=grant_id, patient_id=patient.pk).first()
    if grant is None:
        raise Http404(_("No such permission."))
    with transaction.atomic():
        choices.label_grant_revoke(
            actor=request.actor, grant=grant, source=request.POST.get("source", "")
        )
    messages.success(request, _("The permission is withdrawn."))
    return redirect("records:patient-choices", request.practice.slug, patient.pk)


@practice_view
@require_http_methods(["GET", "POST"])
def break_glass(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    sending = request.method == "POST" and form.is_valid()
    # Showing the form (again) reads the identity; a valid sending is recorded once, as
    # the emergency access itself (``break_glass.start``).
    records_access.require(
        request.actor, Action.READ, Category.IDENTITY, patient, audit_success=not sending
    )
    if sending:
        try:
            with transaction.atomic():
                choices.break_glass_start(
                    actor=request.actor, patient_id=patient.pk, reason=form.cleaned_data["reason"]
                )
            messages.warning(
                request,
                _(
                    "Emergency access is open for four hours."
                    " It will be reviewed and shown to the patient."
                ),
            )
            return redirect("records:chart", request.practice.slug, patient.pk)
        except ValidationError as error:
            form.add_error("reason", error.messages)
            # The form is shown again with the patient's identity: that read is recorded.
            records_access.require(request.actor, Action.READ, Category.IDENTITY, patient)
    return render(
        request,
        "records/break_glass.html",
        {"patient": patient, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@practice_view
@require_http_methods(["GET", "POST"])
def break_glass_review(request: PracticeRequest) -> HttpResponse:
    require_practice(request.actor, PracticeAction.REVIEW_EMERGENCY_ACCESS, request.practice.pk)
    if request.method == "POST":
        grant = BreakGlass.objects.filter(pk=request.POST.get("grant", 0) or 0).first()
        if grant is None:
            raise Http404(_("No such emergency access."))
        with transaction.atomic():
            choices.break_glass_review(
                actor=request.actor, grant=grant, note=request.POST.get("note", "")[:1000]
            )
        messages.success(request, _("Review recorded."))
        return redirect("records:break-glass-review", request.practice.slug)
    grants = list(selectors.break_glass_to_review())
    names = patients_named(actor=request.actor, patient_ids=[g.patient_id for g in grants])
    for grant in grants:
        grant.patient_name = names.get(grant.patient_id, "")  # type: ignore[attr-defined]
    return render(request, "records/break_glass_review.html", {"grants": grants})


@practice_view
@require_GET
def break_glass_letter(request: PracticeRequest, patient_id: int, access_id: int) -> HttpResponse:
    """The letter telling the patient about an emergency access (PDF)."""
    pdf = break_glass_letter_pdf(
        actor=request.actor, practice=request.practice, patient_id=patient_id, grant_id=access_id
    )
    return pdf_response(pdf, f"acces-urgence-{access_id}.pdf")


def _back(request: PracticeRequest, patient_id: int) -> str:
    """Where the reminder was (the chart, the waiting room, an appointment)."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return reverse("records:chart", args=[request.practice.slug, patient_id])


@practice_view
@require_POST
def break_glass_letter_done(
    request: PracticeRequest, patient_id: int, access_id: int
) -> HttpResponse:
    """The desk handed the letter over or posted it."""
    patient = _patient(request, patient_id)
    grant = selectors.break_glass_get(patient.pk, access_id)
    if grant is None:
        raise Http404(_("No such emergency access."))
    try:
        with transaction.atomic():
            choices.break_glass_letter_done(
                actor=request.actor, grant=grant, how=request.POST.get("how", "")
            )
    except ValidationError as error:
        return render(
            request,
            "records/break_glass_letter_done.html",
            {
                "patient": patient,
                "errors": error.messages,
                "letters": [grant],
                "back": _back(request, patient.pk),
            },
            status=400,
        )
    messages.success(request, _("The letter is marked as handed over or posted."))
    return redirect(_back(request, patient.pk))
