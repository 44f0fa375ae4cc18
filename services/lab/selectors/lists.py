"""The lists of the laboratory intake. Each runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from core.access.policy import (
    Action,
    Actor,
    Category,
    PracticeAction,
    Purpose,
    decide,
)
from core.access.services import require_practice
from core.audit.services import record_event
from lab.models import FileStatus, LabFile
from records.selectors.agenda import patients_for_agenda

# Results nobody read after this long are shown to the practice's administrators.
OVERDUE_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class ToRead:
    id: int
    patient_id: int
    patient_name: str
    birth_date: date | None
    laboratory: str
    observed_on: date | None
    received_at: datetime
    result_count: int
    abnormal_count: int
    read: bool


def to_read(actor: Actor) -> list[ToRead]:
    """The results filed for this practitioner and not signed off yet, abnormal first,
    then the oldest. Each patient shown is a clinical read of the patient (the number of
    abnormal results says something of them), decided and audited once."""
    files = list(
        LabFile.objects.filter(
            practitioner_id=actor.person_id, status=FileStatus.FILED, signed_off_at=None
        )
        .annotate(
            normal=Case(
                When(abnormal_count=0, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("normal", "received_at", "pk")[:200]
    )
    patients = patients_for_agenda(f.patient_id for f in files if f.patient_id)
    rows, seen = [], set()
    for lab_file in files:
        patient = patients.get(lab_file.patient_id or 0)
        if patient is None:
            continue
        allowed = decide(actor, Action.READ, Category.CLINICAL, Purpose.CARE, patient.facts)
        if not allowed.allowed:
            continue
        if patient.id not in seen:
            seen.add(patient.id)
            record_event(
                "lab_result.list",
                actor=actor,
                patient_id=patient.id,
                category=Category.CLINICAL.value,
                purpose=Purpose.CARE.value,
                target="lab:to-read",
            )
        rows.append(
            ToRead(
                id=lab_file.pk,
                patient_id=patient.id,
                patient_name=patient.name,
                birth_date=patient.birth_date,
                laboratory=lab_file.laboratory,
                observed_on=lab_file.observed_on,
                received_at=lab_file.received_at,
                result_count=lab_file.result_count,
                abnormal_count=lab_file.abnormal_count,
                read=lab_file.read_at is not None,
            )
        )
    return rows


@dataclass(frozen=True)
class QueueRow:
    """A file waiting for a person, as the laboratory named its patient: identity only,
    never a value (the desk matches files)."""

    id: int
    status: str
    status_label: str
    received_at: datetime
    filename: str
    source: str
    family: str
    given: str
    birth_date: date | None
    sex: str
    nir: str
    laboratory: str
    observed_on: date | None
    reason: str


def _queue_row(lab_file: LabFile) -> QueueRow:
    return QueueRow(
        id=lab_file.pk,
        status=lab_file.status,
        status_label=str(lab_file.get_status_display()),
        received_at=lab_file.received_at,
        filename=lab_file.filename,
        source=str(lab_file.get_source_display()),
        family=lab_file.family,
        given=lab_file.given,
        birth_date=lab_file.birth_date,
        sex=lab_file.sex,
        nir=lab_file.nir,
        laboratory=lab_file.laboratory,
        observed_on=lab_file.observed_on,
        reason=lab_file.reason,
    )


_QUEUE_FIELDS = (
    "status",
    "received_at",
    "filename",
    "source",
    "family",
    "given",
    "birth_date",
    "sex",
    "nir",
    "laboratory",
    "observed_on",
    "reason",
)


def matching_queue(actor: Actor, *, refused_days: int = 30) -> list[QueueRow]:
    """Files waiting for their patient, then files refused lately (for a person to look
    at). The desk and the practitioners (``RECEIVE_LAB_RESULTS``)."""
    require_practice(actor, PracticeAction.RECEIVE_LAB_RESULTS, actor.practice_id or 0)
    since = timezone.now() - timedelta(days=refused_days)
    waiting = LabFile.objects.filter(status=FileStatus.TO_MATCH).only(*_QUEUE_FIELDS)
    refused = LabFile.objects.filter(status=FileStatus.REFUSED, received_at__gte=since).only(
        *_QUEUE_FIELDS
    )
    return [
        _queue_row(f) for f in [*waiting.order_by("received_at"), *refused.order_by("-received_at")]
    ]


def lab_file_for_matching(actor: Actor, lab_file_id: int) -> QueueRow | None:
    require_practice(actor, PracticeAction.RECEIVE_LAB_RESULTS, actor.practice_id or 0)
    found = LabFile.objects.filter(pk=lab_file_id).only(*_QUEUE_FIELDS).first()
    return _queue_row(found) if found else None


@dataclass(frozen=True)
class Overdue:
    id: int
    practitioner_name: str
    received_at: datetime
    laboratory: str
    days: int


def overdue(actor: Actor) -> list[Overdue]:
    """Results filed and still unread after three days, for the practice's
    administrators: who they wait for and since when — no patient, no value."""
    require_practice(actor, PracticeAction.REVIEW_LAB_BACKLOG, actor.practice_id or 0)
    now = timezone.now()
    files = (
        LabFile.objects.filter(
            status=FileStatus.FILED, read_at=None, filed_at__lt=now - OVERDUE_AFTER
        )
        .select_related("practitioner")
        .only("received_at", "filed_at", "laboratory", "practitioner__full_name")
        .order_by("filed_at")
    )
    return [
        Overdue(
            id=f.pk,
            practitioner_name=f.practitioner.full_name if f.practitioner else "",
            received_at=f.received_at,
            laboratory=f.laboratory,
            days=(now - (f.filed_at or f.received_at)).days,
        )
        for f in files
    ]
