"""The chart: everything a practitioner needs on one screen, in a fixed number of queries.

The number of SQL queries does not grow with the length of the history: each section is
one query with a limit, and the policy is applied entry by entry in memory with facts
gathered once (see tests/records/test_chart.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, Purpose
from core.audit.services import record_event
from records import access as policy
from records.access import PatientAccess
from records.models import (
    Allergy,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    PrescriptionItem,
    Problem,
)
from records.models.clinical import EntryStatus

LAST_ENCOUNTERS = 5
TREATMENT_LOOKBACK_DAYS = 2 * 366
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
    hidden: int = 0


def _visible(actor: Actor, access: PatientAccess, entries: list, chart: Chart) -> list:
    shown = [entry for entry in entries if policy.may_see_entry(actor, access, entry)]
    chart.hidden += len(entries) - len(shown)
    return shown


def fetch_together(*querysets: QuerySet[Any]) -> list[list[Any]]:
    """Run several plain querysets (no select_related, no prefetch) in one round trip:
    their statements go in one message, their results come back one after the other,
    and the rows become model instances as the querysets would make them."""
    statements: list[str] = []
    compilers = []
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for queryset in querysets:
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            statements.append(raw.mogrify(sql, params))
            compilers.append((queryset.model, compiler))
        cursor.execute("; ".join(statements))
        results: list[list[Any]] = []
        for index, (model, compiler) in enumerate(compilers):
            if index:
                raw.nextset()
            columns = [column for column, _sql, _alias in compiler.select]
            names = [column.target.attname for column in columns]
            rows: Any = raw.fetchall()
            converters = compiler.get_converters(columns)
            if converters:
                rows = compiler.apply_converters(rows, converters)
            results.append([model.from_db(connection.alias, names, row) for row in rows])
    return results


def chart_for(*, actor: Actor, patient_id: int) -> Chart:
    patient = Patient.objects.filter(pk=patient_id).select_related("gp").first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    access = policy.access_for(patient)
    policy.require(actor, Action.READ, Category.IDENTITY, patient, access=access)
    clinical = policy.check(
        actor, Action.READ, Category.CLINICAL, patient, access=access, audit_success=False
    )
    chart = Chart(
        patient, access, clinical.allowed, "" if clinical.allowed else str(clinical.reason)
    )
    if not clinical.allowed:
        return chart

    mine = {"patient": patient, "status": ACTIVE}
    (
        allergies,
        problems,
        encounters,
        immunizations,
        results,
        pending_documents,
        recent,
    ) = fetch_together(
        Allergy.objects.filter(**mine),
        Problem.objects.filter(**mine).order_by("-onset", "label")[:200],
        Encounter.objects.filter(**mine).order_by("-occurred_at")[:LAST_ENCOUNTERS],
        Immunization.objects.filter(**mine).order_by("-vaccinated_on")[:10],
        Observation.objects.filter(**mine, reviewed=False).order_by("-effective_at")[:20],
        Document.objects.filter(**mine, reviewed=False).order_by("-document_date")[:20],
        Document.objects.filter(**mine).order_by("-document_date", "-pk")[:10],
    )
    chart.allergies = _visible(actor, access, allergies, chart)
    problems = _visible(actor, access, problems, chart)
    chart.problems = [p for p in problems if not p.is_history and p.clinical_status == "active"]
    chart.history = [p for p in problems if p.is_history or p.clinical_status != "active"]
    since = timezone.localdate() - timedelta(days=TREATMENT_LOOKBACK_DAYS)
    items = list(
        PrescriptionItem.objects.filter(
            prescription__patient=patient,
            prescription__status=ACTIVE,
            prescription__prescribed_on__gte=since,
        )
        .select_related("prescription")
        .order_by("-prescription__prescribed_on", "position")[:200]
    )
    today = timezone.localdate()
    visible_prescriptions = {
        item.prescription.pk
        for item in items
        if policy.may_see_entry(actor, access, item.prescription)
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

    record_event(
        "patient.read",
        actor=actor,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        purpose=Purpose.CARE.value,
        target=f"patient:{patient.pk}",
        details={"view": "chart", "hidden_entries": chart.hidden},
    )
    return chart
