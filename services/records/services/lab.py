"""Filing a laboratory's results in a chart: the report as a document and each result as
an observation, written as the practitioner's they are for (the prescriber or the GP
of record), unread until that practitioner signs them off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category
from core.access.services import AccessDenied
from core.accounts.models import Person
from core.accounts.selectors import actor_for
from core.audit.services import record_event
from records import access as records_access
from records.lab_labels import label_for
from records.models import Document, Observation, Patient


@dataclass(frozen=True)
class LabValue:
    code: str
    code_system: str
    label: str
    value: Decimal | None
    value_text: str
    unit: str
    low: Decimal | None
    high: Decimal | None
    range_text: str
    flag: str
    status: str
    observed_at: datetime | None


@dataclass(frozen=True)
class Filed:
    report_id: int
    observation_ids: list[int]


def _when(observed_on: date | None, value: LabValue) -> datetime:
    if value.observed_at is not None:
        return value.observed_at
    if observed_on is not None:
        return timezone.make_aware(datetime.combine(observed_on, time(8)))
    return timezone.now()


@transaction.atomic
def lab_results_file(
    *,
    filed_by: Actor | None,
    filed_by_label: str = "",
    patient_id: int,
    practitioner_id: int,
    results: Sequence[LabValue],
    report_title: str,
    report_text: str,
    observed_on: date | None,
) -> Filed:
    """Write the results in the patient's chart as ``practitioner_id``'s entries. The
    practitioner must be one the policy lets write this patient's clinical data (the
    patient's exclusions apply): otherwise ``AccessDenied``, and nothing is written.
    Whoever files (the desk, a practitioner; None and a label for the drop folder) is
    named in the audit."""
    patient = Patient.objects.get(pk=patient_id)
    practitioner = Person.objects.get(pk=practitioner_id)
    author = actor_for(practitioner, patient.practice_id)
    access = records_access.access_for(patient)
    decision = records_access.check(
        author, Action.WRITE, Category.CLINICAL, patient, access=access, audit_success=False
    )
    if not decision.allowed:
        raise AccessDenied(decision)
    labels = [label_for(v.code, v.code_system, v.label) for v in results]
    # The report holds every value in its text: it is as sensitive as its most sensitive
    # result.
    report_label = next((label for label in labels if label), "")
    report = Document.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        author=practitioner,
        kind=Document.Kind.RESULT,
        title=report_title[:200] or _("Laboratory results"),
        document_date=observed_on or timezone.localdate(),
        body=report_text,
        sensitivity=report_label,
    )
    observations = Observation.objects.bulk_create(
        Observation(
            practice_id=patient.practice_id,
            patient=patient,
            author=practitioner,
            effective_at=_when(observed_on, value),
            code=value.code[:40],
            code_system=value.code_system,
            label=value.label[:200],
            value=value.value,
            value_text=value.value_text[:300],
            unit=value.unit[:30],
            reference_low=value.low,
            reference_high=value.high,
            reference_text=value.range_text[:60],
            flag=value.flag,
            result_status=value.status[:1],
            reviewed=False,
            report=report,
            sensitivity=label,
        )
        for value, label in zip(results, labels, strict=True)
    )
    record_event(
        "lab_result.file",
        actor=filed_by,
        actor_label=filed_by_label,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        target=f"document:{report.pk}",
        details={"practitioner": practitioner.pk, "results": len(observations)},
    )
    return Filed(report.pk, [o.pk for o in observations])


def _report_patient(actor: Actor, report_id: int) -> Patient:
    """The patient of a results report, if the actor may write their clinical data (a
    refusal is audited and raised)."""
    document = Document.objects.filter(pk=report_id, kind=Document.Kind.RESULT).first()
    if document is None:
        raise Http404(_("No such report in this practice."))
    patient = Patient.objects.get(pk=document.patient_id)
    decision = records_access.check(
        actor, Action.WRITE, Category.CLINICAL, patient, audit_success=False
    )
    if not decision.allowed:
        raise AccessDenied(decision)  # the refusal is audited by the check
    return patient


def lab_report_may_sign_off(*, actor: Actor, report_id: int) -> None:
    """Raise the policy's refusal before anything else is read of the request."""
    _report_patient(actor, report_id)


@transaction.atomic
def lab_report_sign_off(*, actor: Actor, report_id: int, conclusion: str, note: str) -> int:
    """The practitioner has read the report's results: they are reviewed (no longer "to
    read" on the chart). Returns the patient's id. A clinical write, audited once."""
    patient = _report_patient(actor, report_id)
    Observation.objects.filter(report_id=report_id).update(reviewed=True)
    record_event(
        "lab_result.sign_off",
        actor=actor,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        target=f"document:{report_id}",
        details={"conclusion": conclusion, "note": bool(note)},
    )
    return patient.pk
