"""Reading appointments: each row judged by the access policy for its patient, the
reason shown only to whom may read it, one audit event per patient shown.

Every list here runs three queries whatever its length: the appointments (with type,
site and practitioner), the patients, and the facts the policy needs about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from agenda.models import Appointment, Channel, Status
from agenda.selectors.slots import local_zone
from core.access.policy import (
    Action,
    Actor,
    Category,
    EntryFacts,
    PatientFacts,
    Purpose,
    decide,
)
from core.access.services import require_patient
from core.audit.services import record_event
from core.prepared import Prepared
from records.selectors.agenda import AgendaPatient, patients_for_agenda


@dataclass(frozen=True)
class AppointmentRow:
    id: int
    starts_at: datetime | None
    ends_at: datetime | None
    status: str
    status_label: str
    channel: str
    type_name: str
    minutes: int
    is_home_visit: bool
    practitioner_id: int | None
    practitioner_name: str
    site_name: str
    patient_id: int | None
    name: str  # the patient's, or the caller's when not registered yet
    birth_date: date | None
    phone: str
    registered: bool
    reason: str  # "" when the reader may not see it
    reason_hidden: bool
    arrived_at: datetime | None
    seen_at: datetime | None
    encounter_id: int | None
    series_id: int | None
    # The reader may not see who this is (the patient excluded them): a busy time only.
    hidden: bool = False
    version: int = 1

    @property
    def waiting_minutes(self) -> int | None:
        if self.status != Status.ARRIVED or self.arrived_at is None:
            return None
        return int((timezone.now() - self.arrived_at).total_seconds() // 60)

    @property
    def is_walk_in(self) -> bool:
        return self.channel == Channel.WALK_IN


# What a row shows, and no more: a day's list is read all day long, and each column
# loaded is converted for every row (the practitioner's account alone has a dozen).
_ROW_FIELDS = (
    "practice_id",
    "practitioner_id",
    "patient_id",
    "caller_name",
    "caller_phone",
    "starts_at",
    "ends_at",
    "status",
    "channel",
    "reason",
    "reason_is_administrative",
    "series_id",
    "arrived_at",
    "seen_at",
    "encounter_id",
    "created_by_id",
    "version",
    "type__name",
    "type__minutes",
    "type__is_home_visit",
    "site__name",
    "practitioner__full_name",
)


def _base() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("type", "site", "practitioner").only(*_ROW_FIELDS)


def _reason_visible(actor: Actor, appointment: Appointment, patient: AgendaPatient | None) -> bool:
    if not appointment.reason:
        return False
    if appointment.reason_is_administrative:
        return True
    if patient is None:  # a caller not registered: only practitioners read the reason
        return actor.person_id in (appointment.practitioner_id, appointment.created_by_id)
    author = appointment.practitioner_id or appointment.created_by_id
    return decide(
        actor,
        Action.READ,
        Category.CLINICAL,
        Purpose.CARE,
        patient.facts,
        EntryFacts(author_id=author),
    ).allowed


def rows_for(
    actor: Actor,
    appointments: Iterable[Appointment],
    *,
    target: str,
    known: AgendaPatient | None = None,
) -> list[AppointmentRow]:
    """The rows the actor may see, each patient shown audited once (``appointment.read``).
    ``known``: a patient already read in this request (the one just booked), not read
    again when the rows are theirs alone."""
    appointments = list(appointments)
    wanted = {a.patient_id for a in appointments if a.patient_id}
    patients = (
        {known.id: known}
        if known is not None and wanted == {known.id}
        else patients_for_agenda(wanted)
    )
    rows = []
    seen: set[int] = set()
    for appointment in appointments:
        patient = patients.get(appointment.patient_id) if appointment.patient_id else None
        if appointment.patient_id and patient is None:
            continue  # not a patient of this practice (row-level security agrees)
        if patient is not None:
            allowed = decide(
                actor, Action.READ, Category.ADMINISTRATIVE, Purpose.CARE, patient.facts
            ).allowed
        else:
            allowed = decide(
                actor,
                Action.READ,
                Category.ADMINISTRATIVE,
                Purpose.CARE,
                _practice_facts(actor),
            ).allowed
        if not allowed:
            rows.append(_hidden(appointment))  # the time is held, the patient not shown
            continue
        if patient is not None and patient.id not in seen:
            seen.add(patient.id)
            record_event(
                "appointment.read",
                actor=actor,
                patient_id=patient.id,
                category=Category.ADMINISTRATIVE.value,
                purpose=Purpose.CARE.value,
                target=target,
            )
        rows.append(_row(actor, appointment, patient))
    return rows


def _practice_facts(actor: Actor) -> PatientFacts:
    return PatientFacts(patient_id=0, practice_id=actor.practice_id or 0)


def _status_label(status: str) -> str:
    """What ``get_status_display`` says, without rebuilding and hashing the field's
    choices on every call (30 rows a day, each label a lazy translation)."""
    try:
        return str(Status(status).label)
    except ValueError:
        return status


def _row(actor: Actor, a: Appointment, patient: AgendaPatient | None) -> AppointmentRow:
    visible = _reason_visible(actor, a, patient)
    return AppointmentRow(
        id=a.pk,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        status=a.status,
        status_label=_status_label(a.status),
        channel=a.channel,
        type_name=a.type.name,
        minutes=a.type.minutes,
        is_home_visit=a.type.is_home_visit,
        practitioner_id=a.practitioner_id,
        practitioner_name=a.practitioner.full_name if a.practitioner else "",
        site_name=a.site.name if a.site else "",
        patient_id=a.patient_id,
        name=patient.name if patient else a.caller_name,
        birth_date=patient.birth_date if patient else None,
        phone=patient.phone if patient else a.caller_phone,
        registered=patient is not None,
        reason=a.reason if visible else "",
        reason_hidden=bool(a.reason) and not visible,
        arrived_at=a.arrived_at,
        seen_at=a.seen_at,
        encounter_id=a.encounter_id,
        series_id=a.series_id,
        version=a.version,
    )


def _hidden(a: Appointment) -> AppointmentRow:
    return AppointmentRow(
        id=a.pk,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        status=a.status,
        status_label=_status_label(a.status),
        channel=a.channel,
        type_name=_("Busy"),
        minutes=a.type.minutes,
        is_home_visit=False,
        practitioner_id=a.practitioner_id,
        practitioner_name=a.practitioner.full_name if a.practitioner else "",
        site_name="",
        patient_id=None,
        name="",
        birth_date=None,
        phone="",
        registered=False,
        reason="",
        reason_hidden=False,
        arrived_at=None,
        seen_at=None,
        encounter_id=None,
        series_id=None,
        hidden=True,
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=local_zone())
    return start, start + timedelta(days=1)


def practitioner_days(
    actor: Actor, practitioner_id: int, first: date, days: int = 1, *, cancelled: bool = False
) -> list[AppointmentRow]:
    """A practitioner's appointments over some days, in time order (3 queries)."""
    start, _end = day_bounds(first)
    end = start + timedelta(days=days)
    found = _base().filter(practitioner_id=practitioner_id, starts_at__gte=start, starts_at__lt=end)
    if not cancelled:
        found = found.exclude(status=Status.CANCELLED)
    return rows_for(actor, found.order_by("starts_at", "pk"), target=f"agenda:{practitioner_id}")


def waiting_room(
    actor: Actor, day: date | None = None, practitioner_id: int | None = None
) -> list[AppointmentRow]:
    """Who is waiting, longest first: booked patients checked in and walk-ins (for this
    practitioner or for whoever is free)."""
    start, end = day_bounds(day or timezone.localdate())
    waiting = _base().filter(status=Status.ARRIVED, arrived_at__gte=start, arrived_at__lt=end)
    if practitioner_id is not None:
        waiting = waiting.filter(Q(practitioner_id=practitioner_id) | Q(practitioner__isnull=True))
    return rows_for(actor, waiting.order_by("arrived_at", "pk"), target="agenda:waiting-room")


@dataclass(frozen=True)
class Today:
    day: date
    appointments: list[AppointmentRow]
    waiting: list[AppointmentRow]
    walk_ins_seen: list[AppointmentRow]


def _day_of(practitioner: int, start: datetime, end: datetime) -> QuerySet[Appointment]:
    mine = Q(practitioner_id=practitioner, starts_at__gte=start, starts_at__lt=end)
    waiting = Q(status=Status.ARRIVED, arrived_at__gte=start, arrived_at__lt=end) & (
        Q(practitioner_id=practitioner) | Q(practitioner__isnull=True)
    )
    return (
        _base()
        .filter(mine | waiting)
        .exclude(status=Status.CANCELLED)
        .order_by("starts_at", "arrived_at", "pk")
    )


# Today's list is opened all day: its statement is compiled once per connection.
_DAY = Prepared(_day_of, start=datetime, end=datetime)


def today_for(actor: Actor, practitioner_id: int, day: date | None = None) -> Today:
    """The practitioner's day: the list, the waiting room (theirs and walk-ins for anyone)
    and the walk-ins they saw. One query for appointments, two for their patients."""
    day = day or timezone.localdate()
    start, end = day_bounds(day)
    found = _DAY.all(practitioner=practitioner_id, start=start, end=end)
    rows = rows_for(actor, found, target=f"agenda:today:{practitioner_id}")
    booked = [r for r in rows if not r.is_walk_in]
    walk_ins_seen = [r for r in rows if r.is_walk_in and r.status != Status.ARRIVED]
    queue = sorted(
        (r for r in rows if r.status == Status.ARRIVED),
        key=lambda r: (r.arrived_at or start, r.id),
    )
    return Today(day, booked, queue, walk_ins_seen)


def appointment_get(
    actor: Actor, appointment_id: int, *, known: AgendaPatient | None = None
) -> AppointmentRow | None:
    found = rows_for(
        actor,
        _base().filter(pk=appointment_id),
        target=f"appointment:{appointment_id}",
        known=known,
    )
    return found[0] if found and not found[0].hidden else None


def patient_appointments(
    actor: Actor, patient_id: int, *, upcoming: bool = True, limit: int = 20
) -> list[AppointmentRow]:
    """A patient's appointments (the next ones by default), for the desk and the card."""
    found = _base().filter(patient_id=patient_id).exclude(status=Status.CANCELLED)
    if upcoming:
        found = found.filter(starts_at__gte=timezone.now() - timedelta(hours=1)).order_by(
            "starts_at"
        )
    else:
        found = found.order_by("-starts_at")
    rows = rows_for(actor, found[:limit], target=f"patient:{patient_id}:appointments")
    return [row for row in rows if not row.hidden]


def patient_for_reading(actor: Actor, patient_id: int) -> AgendaPatient:
    """The patient whose appointments are asked for: 404 when not a patient of this
    practice, the policy's refusal (audited on the patient) when the reader may not see
    them — an empty list would hide that the reader was refused."""
    patient = patients_for_agenda([patient_id]).get(patient_id)
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    require_patient(
        actor,
        Action.READ,
        Category.ADMINISTRATIVE,
        Purpose.CARE,
        patient.facts,
        target=f"patient:{patient_id}:appointments",
        audit_success=False,  # each row shown is audited as ``appointment.read``
    )
    return patient


def appointment_read(
    actor: Actor, appointment_id: int, *, known: AgendaPatient | None = None
) -> AppointmentRow:
    """One appointment, as ``appointment_get``, for a caller that names it by id (the
    API): 404 when it is not of this practice, and when its patient may not be read by
    the actor, the policy's refusal, audited on the patient."""
    row = appointment_get(actor, appointment_id, known=known)
    if row is not None:
        return row
    patient_id = (
        Appointment.objects.filter(pk=appointment_id).values_list("patient_id", flat=True).first()
    )
    if patient_id is not None:
        patient_for_reading(actor, patient_id)  # raises the refusal
    raise Http404(_("No such appointment in this practice."))


def series_appointments(actor: Actor, series_id: int) -> list[AppointmentRow]:
    """The occurrences of a series, in time order (3 queries)."""
    found = _base().filter(series_id=series_id).order_by("starts_at", "pk")
    return rows_for(actor, found, target=f"series:{series_id}")


def appointment_open(actor: Actor, appointment_id: int) -> AppointmentRow | None:
    """``appointment_get`` for a page naming the appointment: a reader the policy refuses
    (the patient excluded them) gets an audited refusal (``AccessDenied``, 403) rather
    than a silent nothing. None when there is no such appointment in this practice."""
    found = list(_base().filter(pk=appointment_id))
    if not found:
        return None
    row = rows_for(actor, found, target=f"appointment:{appointment_id}")
    if row and not row[0].hidden:
        return row[0]
    appointment = found[0]
    patient = (
        patients_for_agenda([appointment.patient_id]).get(appointment.patient_id)
        if appointment.patient_id
        else None
    )
    if appointment.patient_id and patient is None:
        return None  # not a patient of this practice
    require_patient(
        actor,
        Action.READ,
        Category.ADMINISTRATIVE,
        Purpose.CARE,
        patient.facts if patient else _practice_facts(actor),
        target=f"appointment:{appointment_id}",
        audit_success=False,
    )
    return None  # not reached: the policy refused the hidden row's reader
