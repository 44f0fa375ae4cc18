"""Record pages: search, registration, the chart, and writing entries.

Views stay thin: they parse forms, call a selector or a service, and render. Every path
to patient data goes through ``records.access`` (the policy) and is audited there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.access import selectors as access_selectors
from core.access.policy import Action, Category
from core.audit.services import record_event
from core.documents.pdf import pdf_response
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view, reading_ahead
from records import access as records_access
from records import patient_view, printing, reference, search_text, selectors, services
from records.forms import (
    DOSE_UNITS,
    ENTRY_FORMS,
    CorrectionForm,
    EncounterForm,
    PatientForm,
    PrescriptionForm,
    PrescriptionLines,
)
from records.models import (
    Allergy,
    Encounter,
    EntryRevision,
    Immunization,
    Observation,
    Patient,
    Problem,
)
from records.services import care_time
from records.services.care_time import ActKind, SavedEntry
from records.services.consultations import VITALS
from records.signals import consultation_recorded

ENTRY_MODELS: dict[str, Any] = {
    "problem": Problem,
    "allergy": Allergy,
    "immunization": Immunization,
    "observation": Observation,
    "encounter": Encounter,
}
ENTRY_TITLES = {
    "problem": _("Problem or history"),
    "allergy": _("Allergy or intolerance"),
    "immunization": _("Vaccination"),
    "observation": _("Observation or result"),
    "encounter": _("Consultation"),
}

# The act of documentation each kind of entry form times (services.care_time).
ENTRY_ACTS = {
    "problem": ActKind.PROBLEM,
    "allergy": ActKind.ALLERGY,
    "immunization": ActKind.VACCINATION,
    "observation": ActKind.OBSERVATION,
}


def _draft(request: PracticeRequest, kind: str, patient_id: int | None) -> str:
    """The form's opening on the server: made when the page is served, carried back by
    the form and consumed by its save."""
    posted = request.POST.get("draft", "") if request.method == "POST" else None
    return care_time.form_draft(
        actor=request.actor, posted=posted, kind=kind, patient_id=patient_id
    )


def _save_timed(
    request: PracticeRequest,
    kind: str,
    draft: str,
    access: records_access.PatientAccess,
    service: Callable[..., SavedEntry],
    /,
    **values: Any,
) -> SavedEntry:
    """A timed entry saved from its page: ``service`` (a records service) writes it as
    the person, through their access to the patient, and its documentation act closes,
    in one transaction (``care_time.act_with_entry``). The first arguments are
    positional only: a form's values may hold a ``kind`` of their own (a document's)."""
    return care_time.act_with_entry(
        actor=request.actor,
        kind=kind,
        token=draft,
        patient_id=access.patient.pk,
        write=lambda: service(actor=request.actor, access=access, **values),
    )


@practice_view
def patient_list(request: PracticeRequest) -> HttpResponse:
    query = request.GET.get("q", "")[: search_text.MAX_LENGTH]
    problem = search_text.problem(query)
    patients = [] if problem else selectors.patient_search(actor=request.actor, query=query)
    template = (
        "records/_patient_rows.html"
        if request.headers.get("HX-Request")
        else "records/patient_list.html"
    )
    context = {"patients": patients, "query": "" if problem else query, "problem": problem}
    return render(request, template, context, status=400 if problem else 200)


# The session remembers the patient the desk has just registered, for the chart's offer.
JUST_REGISTERED = "records.just_registered"


@practice_view
@require_http_methods(["GET", "POST"])
def patient_new(request: PracticeRequest) -> HttpResponse:
    form = PatientForm(
        request.POST if request.method == "POST" else None,
        doctors=selectors.gp_candidates(request.practice.pk),
        me=request.user.pk,
        country=request.practice.country,
    )
    duplicates: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        confirmed = data.pop("confirm_not_duplicate", False)
        gp_id = data.pop("gp")
        duplicates = selectors.possible_duplicates(
            birth_name=data["birth_name"],
            given_names=data["given_names"],
            birth_date=data["birth_date"],
            nir=data.get("nir", ""),
        )
        try:
            with transaction.atomic():
                patient = services.patient_create(
                    actor=request.actor, gp_id=gp_id, confirm_not_duplicate=confirmed, **data
                )
            messages.success(request, _("Patient registered."))
            # The chart then offers the leaflet of the patient's rights, once.
            request.session[JUST_REGISTERED] = patient.pk
            return redirect("records:chart", request.practice.slug, patient.pk)
        except ValidationError as error:
            attach_service_errors(form, error)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "records/patient_form.html",
        {"form": form, "duplicates": duplicates},
        status=status,
    )


@practice_view
@reading_ahead(selectors.patient_reads_ahead)
def chart(request: PracticeRequest, patient_id: int) -> HttpResponse:
    data = selectors.chart_for(
        actor=request.actor, patient_id=patient_id, with_team=True, identity_history=True
    )
    # The desk is reminded of a letter the patient is owed (an emergency access).
    letters = access_selectors.letters_to_hand(request.actor, [data.patient.pk])
    just_registered = request.session.pop(JUST_REGISTERED, None) == data.patient.pk
    return render(
        request,
        "records/chart.html",
        {
            "chart": data,
            "patient": data.patient,
            "letters": letters,
            "back": request.path,
            # The identity section's buttons: whoever the policy lets correct it.
            "may_edit_identity": records_access.may(
                request.actor, Action.WRITE, Category.IDENTITY, data.access
            ),
            "just_registered": just_registered,
        },
    )


def _patient_for_writing(request: PracticeRequest, patient_id: int) -> records_access.PatientAccess:
    patient, patient_access = selectors.patient_with_access(patient_id)
    records_access.require(
        request.actor, Action.WRITE, Category.CLINICAL, patient, access=patient_access
    )
    return patient_access


@practice_view
@require_http_methods(["GET", "POST"])
def consultation_new(request: PracticeRequest, patient_id: int) -> HttpResponse:
    patient_access = _patient_for_writing(request, patient_id)
    form = EncounterForm(
        request.POST if request.method == "POST" else None,
        initial={"origin": request.GET.get("origin", "")},
    )
    draft = _draft(request, ActKind.CONSULTATION, patient_id)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        vitals = {name: data.pop(name) for name in VITALS}
        origin = data.pop("origin") or ""
        try:
            with transaction.atomic():
                encounter = services.consultation_record(
                    actor=request.actor, access=patient_access, vitals=vitals, **data
                )
                act = care_time.act_record(
                    actor=request.actor,
                    kind=ActKind.CONSULTATION,
                    token=draft,
                    patient_id=patient_id,
                    encounter=encounter,
                )
                if act is not None and act.measured_seconds is not None:
                    encounter.documentation_seconds = act.measured_seconds
                    encounter.save(update_fields=["documentation_seconds"])
                consultation_recorded.send(
                    sender=Encounter, encounter=encounter, actor=request.actor, origin=origin
                )
            messages.success(request, _("Consultation saved."))
            return redirect("records:chart", request.practice.slug, patient_id)
        except ValidationError as error:
            attach_service_errors(form, error)
    # Beside the note: allergies, treatment, problems, the last note and vital signs,
    # read through the chart (the same policy, one audited read).
    beside = selectors.chart_for(actor=request.actor, patient_id=patient_id)
    return render(
        request,
        "records/entry_form.html",
        {
            "form": form,
            "patient": patient_access.patient,
            "title": ENTRY_TITLES["encounter"],
            "vitals": list(VITALS),
            "chart": beside,
            "draft": draft,
        },
        status=400 if request.method == "POST" else 200,
    )


@practice_view
@require_http_methods(["GET", "POST"])
def entry_new(request: PracticeRequest, patient_id: int, entry_type: str) -> HttpResponse:
    if entry_type not in ENTRY_FORMS or entry_type == "encounter":
        raise Http404(_("Unknown kind of entry."))
    patient_access = _patient_for_writing(request, patient_id)
    form = ENTRY_FORMS[entry_type](request.POST if request.method == "POST" else None)
    _enable_search(request, form)
    kind = ENTRY_ACTS[entry_type]
    draft = _draft(request, kind, patient_id)
    if request.method == "POST" and form.is_valid():
        try:
            _save_timed(
                request,
                kind,
                draft,
                patient_access,
                services.entry_create,
                model=ENTRY_MODELS[entry_type],
                **form.cleaned_data,
            )
            messages.success(request, _("Saved."))
            return redirect("records:chart", request.practice.slug, patient_id)
        except ValidationError as error:
            attach_service_errors(form, error)
    return render(
        request,
        "records/entry_form.html",
        {
            "form": form,
            "patient": patient_access.patient,
            "title": ENTRY_TITLES[entry_type],
            "draft": draft,
        },
        status=400 if request.method == "POST" else 200,
    )


@practice_view
@require_http_methods(["GET", "POST"])
def entry_correct(
    request: PracticeRequest, patient_id: int, entry_type: str, entry_id: int
) -> HttpResponse:
    """Correct an entry (with a reason; the previous content is kept) or mark it as
    entered in error."""
    if entry_type not in ENTRY_MODELS:
        raise Http404(_("Unknown kind of entry."))
    patient_access = _patient_for_writing(request, patient_id)
    model = ENTRY_MODELS[entry_type]
    entry = model.objects.filter(pk=entry_id, patient=patient_access.patient).first()
    if entry is None:
        raise Http404(_("No such entry."))
    records_access.require_entry(request.actor, Action.WRITE, patient_access, entry)
    post = request.POST if request.method == "POST" else None
    form = ENTRY_FORMS[entry_type](post, instance=None, initial=_initial(entry))
    _enable_search(request, form)
    correction = CorrectionForm(post, initial={"version": entry.version})
    if request.method == "POST" and correction.is_valid():
        version, reason = correction.cleaned_data["version"], correction.cleaned_data["reason"]
        try:
            with transaction.atomic():
                if "entered_in_error" in request.POST:
                    services.entry_mark_in_error(
                        actor=request.actor,
                        access=patient_access,
                        entry=entry,
                        expected_version=version,
                        reason=reason,
                    )
                elif form.is_valid():
                    changes = {k: v for k, v in form.cleaned_data.items() if k in _fields(form)}
                    services.entry_update(
                        actor=request.actor,
                        access=patient_access,
                        entry=entry,
                        expected_version=version,
                        reason=reason,
                        **changes,
                    )
                else:
                    raise ValidationError(_("Check the fields."))
            messages.success(request, _("Correction saved; the previous version is kept."))
            return redirect("records:chart", request.practice.slug, patient_id)
        except services.EditConflict as conflict:
            correction.add_error(None, str(conflict))
        except ValidationError as error:
            attach_service_errors(correction, error)
    return render(
        request,
        "records/entry_correct.html",
        {
            "form": form,
            "correction": correction,
            "patient": patient_access.patient,
            "entry": entry,
            "title": ENTRY_TITLES[entry_type],
            "revisions": EntryRevision.objects.filter(entry_type=entry_type, entry_id=entry.pk)
            .select_related("changed_by")
            .order_by("-version"),
        },
        status=400 if request.method == "POST" else 200,
    )


def _enable_search(request: PracticeRequest, form: Any) -> None:
    """Forms that pick from reference lists (CIM-10, vaccines) search them while typing."""
    if hasattr(form, "enable_search"):
        form.enable_search(reverse(form.search_view, args=[request.practice.slug]))


def _fields(form: Any) -> set[str]:
    return set(form.Meta.fields)


def _initial(entry: Any) -> dict[str, Any]:
    from django.forms.models import model_to_dict

    return model_to_dict(entry)


MAX_OVERRIDE_REASON = 1000


def _item_inputs(lines: Any) -> list[services.ItemInput]:
    return [
        services.ItemInput(
            drug_cis=line["drug_cis"],
            drug_label=line["drug_label"],
            posology=line["posology"],
            dose_quantity=line.get("dose_quantity"),
            dose_unit=line.get("dose_unit", ""),
            frequency=line.get("frequency"),
            frequency_period=line.get("frequency_period") or "day",
            duration_days=line.get("duration_days") or 30,
            long_term_condition=line.get("long_term_condition", False),
            substitutable=line.get("substitutable", True),
            show_brand=line.get("show_brand", False),
        )
        for line in lines.cleaned_data
        if line and (line.get("drug_cis") or line.get("drug_label"))
    ]


@practice_view
@require_http_methods(["GET", "POST"])
def prescription_new(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """The ordonnance. The safety alerts appear as soon as a drug is picked
    (``prescription_check``, through htmx) and again when saving: a blocking one needs
    a reason, which is audited."""
    patient_access = _patient_for_writing(request, patient_id)
    post = request.POST if request.method == "POST" else None
    form = PrescriptionForm(post)
    lines = PrescriptionLines(post, prefix="items")
    override_reason = request.POST.get("override_reason", "")[:MAX_OVERRIDE_REASON] if post else ""
    checked: list[tuple[str, list[Any]]] = []
    draft = _draft(request, ActKind.PRESCRIPTION, patient_id)
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        items = _item_inputs(lines)
        try:
            prescription = _save_timed(
                request,
                ActKind.PRESCRIPTION,
                draft,
                patient_access,
                services.prescription_create,
                items=items,
                override_reason=override_reason,
                **form.cleaned_data,
            )
            messages.success(request, _("Prescription saved."))
            return redirect(
                "records:prescription-pdf", request.practice.slug, patient_id, prescription.pk
            )
        except ValidationError as error:
            attach_service_errors(form, error)
            checked = _checked(request, patient_access, items)
    allergies, treatment = selectors.prescribing_context(actor=request.actor, access=patient_access)
    return render(
        request,
        "records/prescription_form.html",
        {
            "form": form,
            "lines": lines,
            "patient": patient_access.patient,
            "checked": checked,
            "blocked": any(alert.blocks for _label, alerts in checked for alert in alerts),
            "override_reason": override_reason,
            "allergies": allergies,
            "treatment": treatment,
            "units": DOSE_UNITS,
            "draft": draft,
        },
        status=400 if request.method == "POST" else 200,
    )


def _checked(
    request: PracticeRequest, access: records_access.PatientAccess, items: list[services.ItemInput]
) -> list[tuple[str, list[Any]]]:
    if not items:
        return []
    alerts = services.prescription_check(actor=request.actor, access=access, items=items)
    labels = services.prescriptions.line_facts(items)
    return [(fact.label, line) for fact, line in zip(labels, alerts, strict=True)]


MAX_LINES = 12


@practice_view
def prescription_check(request: PracticeRequest, patient_id: int) -> HttpResponse:
    """The safety alerts of the lines being written (the form's drugs, sent by htmx as
    soon as one is picked). Reads the allergies and the current treatment: the right to
    prescribe for the patient is required, and the read is audited."""
    patient_access = _patient_for_writing(request, patient_id)
    items = []
    for index in range(MAX_LINES):
        cis = request.GET.get(f"items-{index}-drug_cis", "").strip()[:8]
        label = request.GET.get(f"items-{index}-drug_label", "").strip()[:300]
        if cis or label:
            items.append(
                services.ItemInput(drug_cis=cis, drug_label=label, duration_days=1, posology="-")
            )
    checked = _checked(request, patient_access, items)
    return render(
        request,
        "records/_safety_alerts.html",
        {
            "checked": checked,
            "blocked": any(alert.blocks for _label, alerts in checked for alert in alerts),
            "override_reason": request.GET.get("override_reason", "")[:MAX_OVERRIDE_REASON],
        },
    )


def _typed(request: PracticeRequest, *fields: str) -> tuple[str, str | None]:
    """The text of a search box (the first of ``fields`` sent), and why no person could
    have typed it (a NUL byte, a control character: records.search_text), if so."""
    query = next((request.GET[field] for field in fields if field in request.GET), "")[:100]
    return query, search_text.problem(query)


def _options(
    request: PracticeRequest, template: str, query: str, problem: str | None, **found: object
) -> HttpResponse:
    """A search box's list of choices; a text no person types is a 400 with the reason."""
    context = {**found, "query": query, "problem": problem}
    return render(request, template, context, status=400 if problem else 200)


@practice_view
def drug_search(request: PracticeRequest) -> HttpResponse:
    """Drugs of the public database matching a name (for the prescription form)."""
    query, problem = _typed(request, "q")
    drugs = [] if problem else reference.drugs_typed(query)
    target = request.GET.get("target", "")[:40]
    return _options(
        request, "records/_drug_options.html", query, problem, drugs=drugs, target=target
    )


@practice_view
def allergen_search(request: PracticeRequest) -> HttpResponse:
    """Substances and drug classes (ATC) for recording an allergy (reference data only)."""
    query, problem = _typed(request, "q")
    substances = [] if problem else reference.substances_typed(query)
    classes = [] if problem else reference.atc_classes_typed(query)
    template = "records/_allergen_options.html"
    return _options(request, template, query, problem, substances=substances, classes=classes)


@practice_view
def cim10_search(request: PracticeRequest) -> HttpResponse:
    """CIM-10 codes matching a code or words (for the problem form). Reference data, no
    patient data: nothing to audit."""
    query, problem = _typed(request, "code", "q")
    codes = [] if problem else reference.cim10_typed(query, limit=12)
    return _options(request, "records/_cim10_options.html", query, problem, codes=codes)


@practice_view
def vaccine_search(request: PracticeRequest) -> HttpResponse:
    """BDPM vaccines matching a name (for the vaccination form)."""
    query, problem = _typed(request, "vaccine", "q")
    vaccines = [] if problem else reference.drugs_typed(query, limit=12, vaccines=True)
    return _options(request, "records/_vaccine_options.html", query, problem, vaccines=vaccines)


@practice_view
def prescription_pdf(
    request: PracticeRequest, patient_id: int, prescription_id: int
) -> HttpResponse:
    pdf = printing.prescription_pdf(
        actor=request.actor,
        practice=request.practice,
        patient_id=patient_id,
        prescription_id=prescription_id,
    )
    return pdf_response(pdf, f"ordonnance-{prescription_id}.pdf")


@practice_view
def record_pdf(request: PracticeRequest, patient_id: int) -> HttpResponse:
    pdf = printing.record_copy_pdf(
        actor=request.actor, practice=request.practice, patient_id=patient_id
    )
    return pdf_response(pdf, f"dossier-{patient_id}.pdf")


@practice_view
def access_report_pdf(request: PracticeRequest, patient_id: int) -> HttpResponse:
    # French unless the patient asks for English (?lang=en).
    pdf = printing.access_report_pdf(
        actor=request.actor,
        practice=request.practice,
        patient_id=patient_id,
        language=request.GET.get("lang", "fr"),
    )
    return pdf_response(pdf, f"acces-{patient_id}.pdf")


@practice_view
@require_http_methods(["POST"])
def patient_view_start(request: PracticeRequest, patient_id: int) -> HttpResponse:
    selectors.patient_get(actor=request.actor, patient_id=patient_id, category=Category.CLINICAL)
    patient_view.start(request, request.practice.slug, patient_id)
    return redirect("records:patient-view", request.practice.slug)


@practice_view
def patient_view_page(request: PracticeRequest) -> HttpResponse:
    locked = patient_view.current(request)
    if locked is None:
        return redirect("practices:home", request.practice.slug)
    data = selectors.chart_for(actor=request.actor, patient_id=locked["patient"])
    return render(request, "records/patient_view.html", {"chart": data, "patient": data.patient})


@practice_view
@require_http_methods(["POST"])
def patient_view_exit(request: PracticeRequest) -> HttpResponse:
    """Leave with the practitioner's own code or their authenticator's code. Wrong codes
    never lock the account: after a few, the session itself ends (the screen is with the
    patient), and the practitioner logs in again."""
    from django.contrib.auth import logout

    from core.accounts.services import PATIENT_VIEW_TRIES, patient_view_unlock_ok

    locked = patient_view.current(request)
    code = request.POST.get("code", "")[:64]
    if not patient_view_unlock_ok(person=request.user, secret=code):
        tries = patient_view.wrong_code(request)
        record_event(
            "patient_view.wrong_code",
            outcome="failure",
            actor=request.actor,
            details={"tries": tries},
        )
        if tries >= PATIENT_VIEW_TRIES:
            record_event("logout.patient_view", actor=request.actor, details={"tries": tries})
            logout(request)
            messages.info(
                request, _("Too many wrong codes in the patient view: please log in again.")
            )
            return redirect("accounts:login")
        messages.error(request, _("Wrong code: the patient view stays on."))
        return redirect("records:patient-view", request.practice.slug)
    patient_view.stop(request)
    if locked is None:
        return redirect("practices:home", request.practice.slug)
    return redirect("records:chart", request.practice.slug, locked["patient"])
