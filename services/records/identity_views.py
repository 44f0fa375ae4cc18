"""Pages that change a patient's identity after registration: correcting it (with a
reason), recording the death, changing the GP of record, merging a duplicate.

Thin views: the selectors check the policy (and audit), the services check and write
(and audit). Each change names the patient's version it started from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.access.policy import Category
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records import access as records_access
from records import selectors, services
from records.forms import (
    IDENTITY_FIELDS,
    NO_GP_YET,
    DeathForm,
    GpForm,
    IdentityCorrectionForm,
    MergeForm,
)


def _chart(request: PracticeRequest, patient_id: int) -> HttpResponse:
    return redirect("records:chart", request.practice.slug, patient_id)


def _identity_change(
    request: PracticeRequest,
    patient_id: int,
    form: forms.BaseForm,
    template: str,
    access: records_access.PatientAccess,
    history: list[Any],
    change: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """A page changing the identity: on a valid POST, ``change`` calls the service (in a
    transaction) and says what was done, back to the chart; a change made meanwhile by
    someone else or a refusal of the service shows the form again, 400."""
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                done = change(dict(form.cleaned_data))
            messages.success(request, done)
            return _chart(request, patient_id)
        except services.IdentityConflict as conflict:
            form.add_error(None, str(conflict))
        except ValidationError as error:
            attach_service_errors(form, error)
    context = {"form": form, "patient": access.patient, "history": history}
    return render(request, template, context, status=400 if request.method == "POST" else 200)


@practice_view
@require_http_methods(["GET", "POST"])
def identity_correct(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """Correct any identity or contact field; the reason is required, the values
    before the change stay in the history below the form."""
    access, history = selectors.identity_for_change(actor=request.actor, patient_id=patient_id)
    patient = access.patient
    initial: dict[str, Any] = model_to_dict(patient, fields=IDENTITY_FIELDS)
    initial["version"] = patient.version
    form = IdentityCorrectionForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        instance=patient,
        country=request.practice.country,
    )

    def correct(data: dict[str, Any]) -> str:
        version, reason = data.pop("version"), data.pop("reason")
        services.patient_identity_correct(
            actor=request.actor, access=access, expected_version=version, reason=reason, **data
        )
        return _("Identity corrected; the previous values are kept.")

    template = "records/identity_form.html"
    return _identity_change(request, patient_id, form, template, access, history, correct)


@practice_view
@require_http_methods(["GET", "POST"])
def death_record(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """Record the date of death, after an explicit confirmation; correct or withdraw a
    death recorded by mistake, with a reason."""
    access, history = selectors.identity_for_change(actor=request.actor, patient_id=patient_id)
    patient = access.patient
    post = request.POST if request.method == "POST" else None
    form = DeathForm(
        post,
        initial={
            "version": patient.version,
            "deceased_on": patient.deceased_on or timezone.localdate(),
        },
    )
    withdraw = post is not None and "withdraw" in post

    def record(data: dict[str, Any]) -> str:
        services.patient_death_record(
            actor=request.actor,
            access=access,
            expected_version=data["version"],
            deceased_on=None if withdraw else data["deceased_on"],
            confirmed=data["confirmed"],
            reason=data["reason"],
        )
        return _("The recorded death was withdrawn.") if withdraw else _("Death recorded.")

    template = "records/death_form.html"
    return _identity_change(request, patient_id, form, template, access, history, record)


@practice_view
@require_http_methods(["GET", "POST"])
def gp_change(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """Choose the GP of record (médecin traitant), or none, from a date."""
    access, history = selectors.identity_for_change(
        actor=request.actor, patient_id=patient_id, category=Category.ADMINISTRATIVE
    )
    patient = access.patient
    form = GpForm(
        request.POST if request.method == "POST" else None,
        doctors=selectors.gp_candidates(request.practice.pk),
        initial={
            "version": patient.version,
            "gp": str(patient.gp_id) if patient.gp_id else NO_GP_YET,
            "since": timezone.localdate(),
        },
    )

    def change(data: dict[str, Any]) -> str:
        services.patient_gp_change(
            actor=request.actor,
            access=access,
            expected_version=data["version"],
            gp_id=data["gp"],
            since=data["since"],
            reason=data["reason"],
        )
        return _("GP of record changed.")

    return _identity_change(
        request, patient_id, form, "records/gp_form.html", access, history, change
    )


def _duplicate_id(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@practice_view
@require_http_methods(["GET", "POST"])
def patient_merge(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """Merge a duplicate into this record, in three steps: choose the duplicate (the
    look-alikes are offered, or search), see what will move, then confirm with a
    reason. It cannot be undone."""
    keep, candidates = selectors.merge_start(actor=request.actor, patient_id=patient_id)
    post = request.POST if request.method == "POST" else None
    query = request.GET.get("q", "")[:200].strip()
    found = (
        [p for p in selectors.patient_search(actor=request.actor, query=query) if p.pk != keep.pk]
        if query
        else []
    )
    chosen = _duplicate_id((post or request.GET).get("duplicate"))
    form = MergeForm(post, initial={"duplicate": chosen})
    preview = None
    error = ""
    if chosen is not None:
        try:
            preview = selectors.merge_preview(
                actor=request.actor, keep_id=keep.pk, duplicate_id=chosen
            )
        except ValidationError as refused:
            error = " ".join(refused.messages)
    if post is not None and preview is not None and form.is_valid():
        try:
            with transaction.atomic():
                services.patient_merge(
                    actor=request.actor,
                    keep=preview.keep,
                    duplicate=preview.duplicate,
                    reason=form.cleaned_data["reason"],
                )
            messages.success(request, _("Records merged: everything is now in this record."))
            return _chart(request, keep.pk)
        except ValidationError as refused:
            attach_service_errors(form, refused)
    if post is not None and chosen is None:
        error = _("Choose the duplicate record first.")
    bad = post is not None or bool(error)
    return render(
        request,
        "records/merge_form.html",
        {
            "patient": keep,
            "candidates": candidates,
            "query": query,
            "found": found,
            "preview": preview,
            "form": form,
            "error": error,
        },
        status=400 if bad else 200,
    )
