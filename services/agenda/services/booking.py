"""Booking, moving, cancelling, a patient who did not come, and recurring series.

Every booked time goes through ``_hold``: the database's exclusion constraint
(``agenda_no_overlap``) is the judge when two people book the same time at once — one
insert wins, the other gets ``SlotTaken`` with the next free slots, and nothing of it
is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from agenda.models import Appointment, Channel, Series, Site, Status
from agenda.selectors.slots import Slot, fits, free_slots, load_week, local_zone
from agenda.services.common import (
    appointment_type,
    audit,
    check_practitioner,
    field_error,
    patient_for_writing,
    practice_of,
)
from core.access.policy import Actor
from records.selectors.agenda import AgendaPatient

# A time that started this long ago can still be booked (the patient at the desk for
# the slot that has just begun); before that, it is the past.
PAST_GRACE = timedelta(minutes=15)
MAX_SERIES = 52
OVERLAP_SQLSTATE = "23P01"  # exclusion_violation


class SlotTaken(ValidationError):
    """The time is held by another appointment: the next free slots come with it."""

    def __init__(self, next_slots: list[Slot]) -> None:
        self.next_slots = next_slots
        listed = ", ".join(_when(slot.starts) for slot in next_slots[:5]) or _("none in 4 weeks")
        message = _(
            "This time is already taken in the practitioner's agenda. Next free times: %(slots)s."
        ) % {"slots": listed}
        super().__init__({"starts_at": ValidationError(message, code="taken")})


def _when(moment: datetime) -> str:
    return formats.date_format(moment.astimezone(local_zone()), "D j b H:i")


@dataclass(frozen=True)
class Booking:
    """What the desk types: who, with whom, what for, when."""

    practitioner_id: int | None
    type_id: int | None
    starts_at: datetime | None
    patient_id: int | None = None
    caller_name: str = ""
    caller_phone: str = ""
    channel: str = Channel.DESK
    reason: str = ""
    reason_is_administrative: bool = False
    minutes: int | None = None  # the type's length unless given
    override_hours: bool = False  # outside opening hours or during an absence, on purpose
    # The patient as the caller already read them (``patient_for_reading``), so that a
    # booking reads the patient and the policy's facts once; judged again for the write.
    patient: AgendaPatient | None = None


def _check_when(starts_at: datetime | None, minutes: int | None) -> tuple[datetime, timedelta]:
    if starts_at is None:
        raise field_error("starts_at", _("Give the date and time."), "required")
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, local_zone())
    if starts_at < timezone.now() - PAST_GRACE:
        raise field_error(
            "starts_at", _("This time is in the past: choose a time to come."), "past"
        )
    if minutes is None or minutes <= 0 or minutes > 480:
        raise field_error("minutes", _("The length must be between 1 and 480 minutes."), "length")
    return starts_at, timedelta(minutes=minutes)


def _check_hours(
    practitioner_id: int,
    starts: datetime,
    ends: datetime,
    *,
    override: bool,
) -> int | None:
    """The site of the opening hours holding this time; without an override, a time
    outside the hours or during an absence is refused. Other appointments are not read:
    the database's exclusion constraint refuses an overlap, and a refusal names the
    next free slots."""
    day = starts.astimezone(local_zone()).date()
    week = load_week([practitioner_id], day, day, with_busy=False)
    span = fits(week, practitioner_id, starts, ends)
    if span is not None:
        return span.site_id
    if override:
        return None
    away = [a for a in week.absences if a.starts_at < ends and a.ends_at > starts]
    if away:
        label = away[0].label or _("absence")
        raise field_error(
            "starts_at",
            _(
                "The practitioner is away at that time (%(label)s). Choose another time,"
                " or confirm that you book outside the opening hours."
            )
            % {"label": label},
            "absent",
        )
    raise field_error(
        "starts_at",
        _(
            "This time is outside the practitioner's opening hours. Choose another time,"
            " or confirm that you book outside the opening hours."
        ),
        "outside_hours",
    )


def _default_site() -> int | None:
    return Site.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True).first()


def _hold(appointment: Appointment, minutes: int) -> None:
    """Save a booked time; the database refuses an overlap (one of two racing wins)."""
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        if getattr(error.__cause__, "sqlstate", None) != OVERLAP_SQLSTATE:
            raise
        assert appointment.practitioner_id is not None and appointment.starts_at is not None
        raise SlotTaken(
            free_slots([appointment.practitioner_id], minutes, after=appointment.starts_at)
        ) from None


def _caller(booking: Booking) -> tuple[str, str]:
    name = booking.caller_name.strip()[:200]
    phone = booking.caller_phone.strip()[:30]
    if booking.patient_id is None and not name:
        raise field_error("patient", _("Choose the patient, or type the caller's name."), "who")
    return name, phone


def appointment_book(*, actor: Actor, booking: Booking) -> Appointment:
    """Book one appointment (audited ``appointment.book``)."""
    practitioner_id = check_practitioner(actor, booking.practitioner_id)
    kind = appointment_type(booking.type_id)
    minutes = booking.minutes if booking.minutes is not None else kind.minutes
    starts, length = _check_when(booking.starts_at, minutes)
    caller_name, caller_phone = _caller(booking)
    patient = patient_for_writing(
        actor, booking.patient_id, practitioner_id=practitioner_id, known=booking.patient
    )
    site_id = _check_hours(
        practitioner_id, starts, starts + length, override=booking.override_hours
    )
    appointment = Appointment(
        practice_id=practice_of(actor),
        practitioner_id=practitioner_id,
        patient_id=patient.id if patient else None,
        caller_name="" if patient else caller_name,
        caller_phone="" if patient else caller_phone,
        type=kind,
        site_id=site_id or _default_site(),
        starts_at=starts,
        ends_at=starts + length,
        channel=booking.channel if booking.channel in Channel.values else Channel.DESK,
        reason=booking.reason.strip()[:300],
        reason_is_administrative=booking.reason_is_administrative,
        outside_hours=site_id is None,
        created_by_id=actor.person_id,
    )
    _hold(appointment, minutes)
    audit("appointment.book", actor, appointment, channel=appointment.channel)
    return appointment


def appointment_for_change(actor: Actor, appointment_id: int) -> Appointment:
    """The appointment of this practice, locked, if the policy lets the actor change it."""
    appointment = Appointment.objects.select_for_update().filter(pk=appointment_id).first()
    if appointment is None:
        raise ValidationError(_("No such appointment in this practice."), code="unknown")
    patient_for_writing(actor, appointment.patient_id)
    return appointment


def appointment_move(
    *,
    actor: Actor,
    appointment_id: int,
    starts_at: datetime | None,
    practitioner_id: int | None = None,
    override_hours: bool = False,
) -> Appointment:
    """Another time (or another practitioner), same length (audited ``appointment.move``)."""
    appointment = appointment_for_change(actor, appointment_id)
    if appointment.status != Status.BOOKED or appointment.starts_at is None:
        raise ValidationError(_("Only a booked appointment can be moved."), code="status")
    assert appointment.ends_at is not None
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    new_practitioner = check_practitioner(
        actor, practitioner_id if practitioner_id is not None else appointment.practitioner_id
    )
    if appointment.patient_id is not None:
        patient_for_writing(actor, appointment.patient_id, practitioner_id=new_practitioner)
    starts, length = _check_when(starts_at, minutes)
    site_id = _check_hours(
        new_practitioner,
        starts,
        starts + length,
        override=override_hours,
    )
    before = appointment.starts_at
    appointment.practitioner_id = new_practitioner
    appointment.starts_at = starts
    appointment.ends_at = starts + length
    appointment.outside_hours = site_id is None
    if site_id is not None:
        appointment.site_id = site_id
    appointment.version += 1
    _hold(appointment, minutes)
    audit(
        "appointment.move", actor, appointment, before=before.isoformat(), after=starts.isoformat()
    )
    return appointment


def appointment_cancel(*, actor: Actor, appointment_id: int, reason: str) -> Appointment:
    """Cancel, with a reason (the patient phoned, the doctor is ill…); the time is free
    again (audited ``appointment.cancel``)."""
    reason = (reason or "").strip()
    if not reason:
        raise field_error("cancel_reason", _("Say why the appointment is cancelled."), "required")
    appointment = appointment_for_change(actor, appointment_id)
    if appointment.status not in (Status.BOOKED, Status.ARRIVED):
        raise ValidationError(_("This appointment can no longer be cancelled."), code="status")
    appointment.status = Status.CANCELLED
    appointment.cancelled_at = timezone.now()
    appointment.cancel_reason = reason[:200]
    appointment.version += 1
    appointment.save()
    audit("appointment.cancel", actor, appointment)
    return appointment


def appointment_no_show(*, actor: Actor, appointment_id: int) -> Appointment:
    """The patient did not come (audited ``appointment.no_show``)."""
    appointment = appointment_for_change(actor, appointment_id)
    if appointment.status != Status.BOOKED:
        raise ValidationError(_("Only a booked appointment can be marked missed."), code="status")
    if appointment.starts_at is None or appointment.starts_at > timezone.now():
        raise ValidationError(
            _("The appointment has not started yet: it cannot be marked missed."), code="early"
        )
    appointment.status = Status.NO_SHOW
    appointment.version += 1
    appointment.save()
    audit("appointment.no_show", actor, appointment)
    return appointment


def series_book(*, actor: Actor, booking: Booking, every_weeks: int, count: int) -> Series:
    """A recurring appointment: ``count`` occurrences every ``every_weeks`` weeks, all or
    none (a taken or closed date refuses the series, naming the date). Each occurrence
    is then an ordinary appointment."""
    if not 1 <= every_weeks <= 8:
        raise field_error("every_weeks", _("Repeat every 1 to 8 weeks."), "every_weeks")
    if not 2 <= count <= MAX_SERIES:
        raise field_error(
            "count", _("A series has 2 to %(max)s appointments.") % {"max": MAX_SERIES}, "count"
        )
    if booking.starts_at is None:
        raise field_error("starts_at", _("Give the date and time."), "required")
    first = booking.starts_at
    if timezone.is_naive(first):
        first = timezone.make_aware(first, local_zone())
    local_first = first.astimezone(local_zone())
    with transaction.atomic():
        series = Series.objects.create(
            practice_id=practice_of(actor),
            every_weeks=every_weeks,
            count=count,
            created_by_id=actor.person_id,
        )
        for index in range(count):
            # The same wall-clock time each week, across a change of summer time.
            day = local_first.date() + timedelta(weeks=every_weeks * index)
            starts = datetime.combine(
                day, local_first.timetz().replace(tzinfo=None), tzinfo=local_zone()
            )
            try:
                appointment = appointment_book(
                    actor=actor, booking=_with(booking, starts_at=starts)
                )
            except ValidationError as error:
                message = "; ".join(error.messages)
                raise field_error(
                    "starts_at",
                    _("The series cannot be booked on %(day)s: %(why)s")
                    % {"day": formats.date_format(day, "l j F Y"), "why": message},
                    "series_date",
                ) from None
            appointment.series = series
            appointment.save(update_fields=["series"])
    return series


def _with(booking: Booking, **changes: object) -> Booking:
    from dataclasses import replace

    return replace(booking, **changes)  # type: ignore[arg-type]
