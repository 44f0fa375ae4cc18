"""The chart: everything a practitioner needs on one screen, in a fixed number of queries.

The number of SQL queries does not grow with the length of the history: each section is
one query with a limit, and the policy is applied entry by entry in memory with facts
gathered once (see tests/records/test_chart.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from core.access.policy import Action, Actor, Category, Purpose
from core.audit.services import record_event
from core.prepared import Prepared, fetch_together
from records import access as records_access
from records.access import PatientAccess
from records.models import (
    Allergy,
    Document,
    Encounter,
    IdentityChange,
    Immunization,
    Observation,
    Patient,
    PrescriptionItem,
    Problem,
)
from records.models.clinical import TREATMENT_LOOKBACK_DAYS, EntryStatus
from records.selectors.care_team import CareTeam, team_from, team_statements
from records.selectors.identity import IDENTITY_HISTORY
from records.selectors.lab import TRENDS, lab_trends
from records.selectors.patients import patient_with_access
from records.vitals import PLOTTED, VITAL_CODES, Plot, Vitals, vitals_from

LAST_ENCOUNTERS = 5
ACTIVE = EntryStatus.ACTIVE


@dataclass
class Chart:
    patient: Patient
    access: PatientAccess
    clinical_allowed: bool
    clinical_refusal: str = ""
    allergies: list[Allergy] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    history: list[Problem] = field(default_factory=list)
    treatment: list[PrescriptionItem] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)
    immunizations: list[Immunization] = field(default_factory=list)
    pending_results: list[Observation] = field(default_factory=list)
    pending_documents: list[Document] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    vitals: Vitals = field(default_factory=Vitals)
    lab_trends: list[Plot] = field(default_factory=list)  # the analyses measured again
    hidden: int = 0
    team: CareTeam | None = None  # asked by the page (``with_team``)
    # Corrections, death, GP changes, merges: identity, so shown to whoever reads it.
    identity_history: list[IdentityChange] = field(default_factory=list)


def _visible(actor: Actor, access: PatientAccess, entries: list, chart: Chart) -> list:
    shown = [entry for entry in entries if records_access.may_see_entry(actor, access, entry)]
    chart.hidden += len(entries) - len(shown)
    return shown


# The chart's statements, compiled once (core.prepared): after the patient and the facts
# the policy needs (one round trip), every section in a second one.
ALLERGIES = Prepared(lambda patient: Allergy.objects.filter(patient_id=patient, status=ACTIVE))
PROBLEMS = Prepared(
    lambda patient: Problem.objects.filter(patient_id=patient, status=ACTIVE).order_by(
        "-onset", "label"
    )[:200]
)
ENCOUNTERS = Prepared(
    lambda patient: Encounter.objects.filter(patient_id=patient, status=ACTIVE).order_by(
        "-occurred_at"
    )[:LAST_ENCOUNTERS]
)
IMMUNIZATIONS = Prepared(
    lambda patient: Immunization.objects.filter(patient_id=patient, status=ACTIVE).order_by(
        "-vaccinated_on"
    )[:10]
)
RESULTS_TO_REVIEW = Prepared(
    lambda patient: Observation.objects.filter(
        patient_id=patient, status=ACTIVE, reviewed=False
    ).order_by("-effective_at")[:20]
)
DOCUMENTS_TO_REVIEW = Prepared(
    lambda patient: Document.objects.filter(
        patient_id=patient, status=ACTIVE, reviewed=False
    ).order_by("-document_date")[:20]
)
RECENT_DOCUMENTS = Prepared(
    lambda patient: Document.objects.filter(patient_id=patient, status=ACTIVE).order_by(
        "-document_date", "-pk"
    )[:10]
)
# The last values of each vital sign (for the block and its plots): at most PLOTTED per
# sign, read in the same round trip as the other sections.
VITAL_SIGNS = Prepared(
    lambda patient: (
        Observation.objects.filter(patient_id=patient, status=ACTIVE, code__in=VITAL_CODES)
        .annotate(
            nth=Window(RowNumber(), partition_by=[F("code")], order_by=F("effective_at").desc())
        )
        .filter(nth__lte=PLOTTED)
    )
)
# The last values of each laboratory analysis (results filed with a report), for the
# trends of those measured more than once; same round trip.
LAB_SERIES = Prepared(
    lambda patient: (
        Observation.objects.filter(patient_id=patient, status=ACTIVE, report__isnull=False)
        .exclude(value=None)
        .annotate(
            nth=Window(RowNumber(), partition_by=[F("code")], order_by=F("effective_at").desc())
        )
        .filter(nth__lte=TRENDS)
    )
)
TREATMENT = Prepared(
    lambda patient, since: (
        PrescriptionItem.objects.filter(
            prescription__patient_id=patient,
            prescription__status=ACTIVE,
            prescription__prescribed_on__gte=since,
        )
        .select_related("prescription")
        .order_by("-prescription__prescribed_on", "position")[:200]
    ),
    since=date,
)


def chart_for(
    *, actor: Actor, patient_id: int, with_team: bool = False, identity_history: bool = False
) -> Chart:
    """The chart; ``with_team`` adds the care team, read in the same round trip as the
    sections (or alone, for a reader who gets no clinical content); with
    ``identity_history``, the identity's changes too, in that same round trip (the page
    shows them, the JSON does not). The patient and the policy's facts come first: read
    ahead by the request when it could (``records.selectors.patient_reads_ahead``)."""
    patient, access = patient_with_access(patient_id)
    # The opening is recorded once, below, with what was read (identity only, or the
    # clinical record): the identity decision's success is not an event of its own.
    records_access.require(
        actor, Action.READ, Category.IDENTITY, patient, access=access, audit_success=False
    )
    clinical = records_access.check(
        actor, Action.READ, Category.CLINICAL, patient, access=access, audit_success=False
    )
    chart = Chart(
        patient, access, clinical.allowed, "" if clinical.allowed else str(clinical.reason)
    )
    # Read only once the identity's read is allowed, as the sections once the record's is.
    history = [IDENTITY_HISTORY.bind(patient=patient_id)] if identity_history else []
    team = team_statements(patient) if with_team else []
    if not clinical.allowed:
        read = fetch_together(*history, *team) if history or team else []
        if history:
            chart.identity_history = read.pop(0)
        if team:
            chart.team = team_from(actor, access, *read)
        _record_opening(actor, patient, Category.IDENTITY, {"view": "chart"})
        return chart

    today = timezone.localdate()
    since = today - timedelta(days=TREATMENT_LOOKBACK_DAYS)
    mine = {"patient": patient.pk}
    (
        allergies,
        problems,
        encounters,
        immunizations,
        results,
        pending_documents,
        recent,
        items,
        vital_signs,
        lab_series,
        *history_and_team,
    ) = fetch_together(
        ALLERGIES.bind(**mine),
        PROBLEMS.bind(**mine),
        ENCOUNTERS.bind(**mine),
        IMMUNIZATIONS.bind(**mine),
        RESULTS_TO_REVIEW.bind(**mine),
        DOCUMENTS_TO_REVIEW.bind(**mine),
        RECENT_DOCUMENTS.bind(**mine),
        TREATMENT.bind(patient=patient.pk, since=since),
        VITAL_SIGNS.bind(**mine),
        LAB_SERIES.bind(**mine),
        *history,
        *team,
    )
    if history:
        chart.identity_history = history_and_team.pop(0)
    if team:
        chart.team = team_from(actor, access, *history_and_team)
    chart.allergies = _visible(actor, access, allergies, chart)
    problems = _visible(actor, access, problems, chart)
    chart.problems = [p for p in problems if not p.is_history and p.clinical_status == "active"]
    chart.history = [p for p in problems if p.is_history or p.clinical_status != "active"]
    visible_prescriptions = {
        item.prescription.pk
        for item in items
        if records_access.may_see_entry(actor, access, item.prescription)
    }
    chart.treatment = [
        item
        for item in items
        if item.prescription.pk in visible_prescriptions and item.ends_on() >= today
    ]
    chart.hidden += len({i.prescription.pk for i in items} - visible_prescriptions)
    chart.encounters = _visible(actor, access, encounters, chart)
    chart.immunizations = _visible(actor, access, immunizations, chart)
    chart.pending_results = _visible(actor, access, results, chart)
    chart.pending_documents = _visible(actor, access, pending_documents, chart)
    chart.documents = _visible(actor, access, recent, chart)
    # A vital sign takes its consultation's label: the hidden ones are already counted
    # through their consultation, so they are not counted again.
    chart.vitals = vitals_from(
        sign for sign in vital_signs if records_access.may_see_entry(actor, access, sign)
    )

    chart.lab_trends = lab_trends(
        [o for o in lab_series if records_access.may_see_entry(actor, access, o)]
    )
    _record_opening(
        actor, patient, Category.CLINICAL, {"view": "chart", "hidden_entries": chart.hidden}
    )
    return chart


def _record_opening(
    actor: Actor, patient: Patient, category: Category, details: dict[str, object]
) -> None:
    """One event per opening of the chart, page or JSON alike."""
    record_event(
        "patient.read",
        actor=actor,
        patient_id=patient.pk,
        category=category.value,
        purpose=Purpose.CARE.value,
        target=f"patient:{patient.pk}",
        details=details,
    )
