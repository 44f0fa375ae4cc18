"""Paper: the prescription, the full copy of the record, the "who accessed my record"
report. Every print is itself written to the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.access.policy import Action, Actor, Category, Purpose
from core.accounts.models import Person
from core.audit.models import AuditEvent
from core.audit.selectors import events_for_patient
from core.audit.services import record_event
from core.documents.pdf import render_pdf
from core.practices.models import Practice
from records import access as policy
from records.models import (
    Allergy,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    Problem,
)
from records.models.clinical import EntryStatus
from records.models.patients import field_label


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).select_related("gp").first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    return patient


def prescription_pdf(
    *, actor: Actor, practice: Practice, patient_id: int, prescription_id: int
) -> bytes:
    patient = _patient(patient_id)
    prescription = (
        Prescription.objects.filter(pk=prescription_id, patient=patient)
        .select_related("author")
        .first()
    )
    if prescription is None:
        raise Http404(_("No such prescription."))
    access = policy.access_for(patient)
    # One event for the print: the decision's success is not recorded on its own.
    policy.require_entry(actor, Action.PRINT, access, prescription, audit_success=False)
    items = list(prescription.items.all())
    record_event(
        "prescription.print",
        actor=actor,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        target=f"prescription:{prescription.pk}",
    )
    return render_pdf(
        "records/pdf/prescription.html",
        {
            "practice": practice,
            "patient": patient,
            "prescription": prescription,
            "prescriber": prescription.author,
            "ald_items": [i for i in items if i.long_term_condition],
            "other_items": [i for i in items if not i.long_term_condition],
            "bizone": any(i.long_term_condition for i in items),
        },
    )


@dataclass
class RecordCopy:
    patient: Patient
    sections: list[tuple[str, list[Any]]]
    hidden: int


def record_copy(*, actor: Actor, patient_id: int) -> RecordCopy:
    """Everything of the record the actor may see, for the patient (right of access)."""
    patient = _patient(patient_id)
    access = policy.access_for(patient)
    policy.require(
        actor,
        Action.PRINT,
        Category.CLINICAL,
        patient,
        access=access,
        purpose=Purpose.PATIENT_REQUEST,
        audit_success=False,  # the print is recorded once, by ``record_copy_pdf``
    )
    hidden = 0
    sections: list[tuple[str, list[Any]]] = []
    queries = [
        (_("Allergies and intolerances"), Allergy.objects.order_by("substance")),
        (_("Problems and history"), Problem.objects.order_by("-onset", "label")),
        (_("Consultations"), Encounter.objects.order_by("-occurred_at")),
        (
            _("Prescriptions"),
            Prescription.objects.prefetch_related("items").order_by("-prescribed_on"),
        ),
        (_("Vaccinations"), Immunization.objects.order_by("-vaccinated_on")),
        (_("Observations and results"), Observation.objects.order_by("-effective_at")),
        (_("Documents and letters"), Document.objects.order_by("-document_date")),
    ]
    for title, queryset in queries:
        entries = list(queryset.filter(patient=patient, status=EntryStatus.ACTIVE))
        shown = [e for e in entries if policy.may_see_entry(actor, access, e, Action.PRINT)]
        hidden += len(entries) - len(shown)
        sections.append((title, shown))
    return RecordCopy(patient, sections, hidden)


def record_copy_pdf(*, actor: Actor, practice: Practice, patient_id: int) -> bytes:
    copy = record_copy(actor=actor, patient_id=patient_id)
    record_event(
        "patient.print",
        actor=actor,
        patient_id=copy.patient.pk,
        category=Category.CLINICAL.value,
        purpose=Purpose.PATIENT_REQUEST.value,
        details={"document": "record_copy", "hidden_entries": copy.hidden},
    )
    return render_pdf(
        "records/pdf/record_copy.html",
        {
            "practice": practice,
            "copy": copy,
            "patient": copy.patient,
            "printed_at": timezone.now(),
            "printed_by": actor.label,
        },
    )


# What each kind of event says on the report, in words (evaluated in the language of
# the page: the report is printed in French).
ACTION_LABELS = {
    "patient.read": gettext_lazy("read the record"),
    "patient.search": gettext_lazy("searched"),
    "patient.print": gettext_lazy("printed the record"),
    "patient.write": gettext_lazy("wrote to the record"),
    "patient.create": gettext_lazy("registered the patient"),
    "patient.merge": gettext_lazy("merged the record with a duplicate"),
    "patient.death_recorded": gettext_lazy("recorded the death"),
    "patient.gp_changed": gettext_lazy("changed the GP of record"),
    "access.denied": gettext_lazy("was refused access"),
    "break_glass.start": gettext_lazy("used emergency access"),
    "break_glass.review": gettext_lazy("reviewed an emergency access"),
    "prescription.print": gettext_lazy("printed a prescription"),
    "access_report.print": gettext_lazy("printed this report"),
    "api.replay": gettext_lazy("received again the answer to a change it sent (a retry)"),
    "appointment.read": gettext_lazy("saw the appointments"),
    "appointment.book": gettext_lazy("booked an appointment"),
    "appointment.move": gettext_lazy("moved an appointment"),
    "appointment.cancel": gettext_lazy("cancelled an appointment"),
    "appointment.no_show": gettext_lazy("noted a missed appointment"),
    "appointment.arrived": gettext_lazy("checked the patient in"),
    "appointment.walk_in": gettext_lazy("added the patient to the waiting room"),
    "appointment.start": gettext_lazy("called the patient in"),
    "appointment.done": gettext_lazy("closed the appointment"),
    "appointment.print": gettext_lazy("printed the appointment card"),
}
CATEGORY_LABELS = {
    "identity": gettext_lazy("identity"),
    "administrative": gettext_lazy("administrative"),
    "clinical": gettext_lazy("clinical"),
}


@dataclass
class AccessLine:
    event: AuditEvent
    who: str
    what: str
    category: str = ""


def _person_id(target: str) -> int | None:
    kind, _sep, value = target.partition(":")
    return int(value) if kind == "person" and value.isdigit() else None


def _what(event: AuditEvent, people: dict[int, Person]) -> str:
    """The event in words: which fields were corrected (never their values), who joined
    or left the care team."""
    details = event.details if isinstance(event.details, dict) else {}
    if event.action == "patient.identity_corrected":
        fields = ", ".join(field_label(name) for name in details.get("fields", []))
        return _("corrected the identity: %(fields)s") % {"fields": fields}
    if event.action == "patient.death_recorded" and details.get("withdrawn"):
        return _("withdrew a death recorded by mistake")
    if event.action == "patient.death_recorded" and details.get("corrected"):
        return _("corrected the date of death")
    if event.action in ("care_team.add", "care_team.remove"):
        person_id = _person_id(event.target)
        person = people.get(person_id) if person_id else None
        name = person.full_name if person else _("someone")
        if event.action == "care_team.add":
            return _("added %(person)s to the care team") % {"person": name}
        return _("removed %(person)s from the care team") % {"person": name}
    label = ACTION_LABELS.get(event.action)
    return str(label) if label else event.action.replace("_", " ").replace(".", " — ")


def access_report(*, actor: Actor, patient_id: int) -> tuple[Patient, list[AccessLine]]:
    """Every access to the patient's record, from the audit trail (identity staff may
    print it for the patient: it holds no clinical content)."""
    patient = _patient(patient_id)
    policy.require(
        actor, Action.PRINT, Category.ADMINISTRATIVE, patient, purpose=Purpose.PATIENT_REQUEST
    )
    events = list(events_for_patient(patient_id=patient.pk))
    ids = {e.actor_id for e in events if e.actor_id}
    for event in events:
        if event.action.startswith("care_team.") and (member := _person_id(event.target)):
            ids.add(member)
    people = Person.objects.in_bulk(ids)
    lines = []
    for event in events:
        person = people.get(event.actor_id) if event.actor_id else None
        who = person.full_name if person else (event.actor_label or _("Carnet"))
        category = CATEGORY_LABELS.get(event.category, event.category)
        lines.append(AccessLine(event, who, _what(event, people), str(category)))
    return patient, lines


def access_report_pdf(*, actor: Actor, practice: Practice, patient_id: int) -> bytes:
    patient, lines = access_report(actor=actor, patient_id=patient_id)
    record_event(
        "access_report.print",
        actor=actor,
        patient_id=patient.pk,
        category=Category.ADMINISTRATIVE.value,
        purpose=Purpose.PATIENT_REQUEST.value,
    )
    return render_pdf(
        "records/pdf/access_report.html",
        {"practice": practice, "patient": patient, "lines": lines, "printed_at": timezone.now()},
    )
