"""The agenda's frame: sites, appointment types, each practitioner's week, one day's
exceptions, absences and the practice's holidays. Judged by the access policy
(``PracticeAction.MANAGE_AGENDA`` / ``MANAGE_SCHEDULE``) and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from dateutil.easter import easter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from agenda.models import (
    HOLDING,
    Absence,
    Appointment,
    AppointmentType,
    DayHours,
    OpeningHours,
    Site,
)
from agenda.selectors.slots import at, local_zone
from agenda.services.common import check_practitioner, field_error, practice_of
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event


@dataclass(frozen=True)
class HoursSpan:
    weekday: int
    site_id: int
    starts: time
    ends: time


def _require_agenda(actor: Actor, target: str) -> int:
    practice_id = practice_of(actor)
    require_practice(actor, PracticeAction.MANAGE_AGENDA, practice_id, target=target)
    return practice_id


def _require_schedule(actor: Actor, practitioner_id: int | None, target: str) -> int:
    practice_id = practice_of(actor)
    require_practice(
        actor,
        PracticeAction.MANAGE_SCHEDULE,
        practice_id,
        target=target,
        subject_id=practitioner_id,
    )
    return practice_id


def _event(action: str, actor: Actor, target: str, **details: object) -> None:
    record_event(
        action, actor=actor, target=target, details={k: str(v) for k, v in details.items()}
    )


def site_save(
    *,
    actor: Actor,
    name: str,
    address: str = "",
    postal_code: str = "",
    city: str = "",
    phone: str = "",
    site_id: int | None = None,
) -> Site:
    practice_id = _require_agenda(actor, "agenda:sites")
    name = name.strip()
    if not name:
        raise field_error("name", _("Give the site a name."), "required")
    clash = Site.objects.filter(name__iexact=name).exclude(pk=site_id or 0)
    if clash.exists():
        raise field_error("name", _("A site already has this name."), "duplicate")
    site = Site.objects.get(pk=site_id) if site_id else Site(practice_id=practice_id)
    site.name, site.address, site.postal_code = name[:100], address[:200], postal_code[:10]
    site.city, site.phone = city[:100], phone[:30]
    site.save()
    _event("agenda.site_saved", actor, f"site:{site.pk}", name=site.name)
    return site


def type_save(
    *,
    actor: Actor,
    name: str,
    minutes: int | None,
    is_home_visit: bool = False,
    is_active: bool = True,
    type_id: int | None = None,
) -> AppointmentType:
    practice_id = _require_agenda(actor, "agenda:types")
    name = name.strip()
    if not name:
        raise field_error("name", _("Give the type a name."), "required")
    if minutes is None or not 1 <= minutes <= 480:
        raise field_error("minutes", _("The length must be between 1 and 480 minutes."), "length")
    if AppointmentType.objects.filter(name__iexact=name).exclude(pk=type_id or 0).exists():
        raise field_error("name", _("A type already has this name."), "duplicate")
    kind = (
        AppointmentType.objects.get(pk=type_id)
        if type_id
        else AppointmentType(practice_id=practice_id)
    )
    kind.name, kind.minutes = name[:100], minutes
    kind.is_home_visit, kind.is_active = is_home_visit, is_active
    kind.save()
    _event("agenda.type_saved", actor, f"type:{kind.pk}", name=kind.name, minutes=minutes)
    return kind


def _check_spans(spans: list[tuple[object, time, time]]) -> None:
    for _key, starts, ends in spans:
        if ends <= starts:
            raise field_error(
                "hours",
                _("Each span must end after it starts (%(s)s-%(e)s).")
                % {"s": starts.strftime("%H:%M"), "e": ends.strftime("%H:%M")},
                "order",
            )
    ordered = sorted(spans, key=lambda s: (str(s[0]), s[1]))
    for before, after in pairwise(ordered):
        if before[0] == after[0] and after[1] < before[2]:
            raise field_error("hours", _("Two spans of the same day overlap."), "overlap")


def _check_site(site_id: int) -> None:
    if not Site.objects.filter(pk=site_id, is_active=True).exists():
        raise field_error("site", _("Choose a site of this practice."), "site")


@transaction.atomic
def hours_set(*, actor: Actor, practitioner_id: int, spans: list[HoursSpan]) -> None:
    """Replace a practitioner's usual week (audited ``agenda.hours_set``)."""
    practice_id = _require_schedule(actor, practitioner_id, f"person:{practitioner_id}")
    check_practitioner(actor, practitioner_id)
    for span in spans:
        if not 0 <= span.weekday <= 6:
            raise field_error("hours", _("Unknown day of the week."), "weekday")
        _check_site(span.site_id)
    _check_spans([(s.weekday, s.starts, s.ends) for s in spans])
    OpeningHours.objects.filter(practitioner_id=practitioner_id).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            site_id=span.site_id,
            weekday=span.weekday,
            starts=span.starts,
            ends=span.ends,
        )
        for span in spans
    )
    _event("agenda.hours_set", actor, f"person:{practitioner_id}", spans=len(spans))


@transaction.atomic
def day_hours_set(
    *,
    actor: Actor,
    practitioner_id: int,
    day: date,
    spans: list[tuple[int, time, time]],
) -> None:
    """That day only, these spans replace the usual week (``[]``: back to the usual)."""
    practice_id = _require_schedule(actor, practitioner_id, f"person:{practitioner_id}")
    check_practitioner(actor, practitioner_id)
    for site_id, _s, _e in spans:
        _check_site(site_id)
    _check_spans([(day, s, e) for _site, s, e in spans])
    DayHours.objects.filter(practitioner_id=practitioner_id, day=day).delete()
    DayHours.objects.bulk_create(
        DayHours(
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            site_id=site_id,
            day=day,
            starts=starts,
            ends=ends,
        )
        for site_id, starts, ends in spans
    )
    _event("agenda.day_hours_set", actor, f"person:{practitioner_id}", day=day, spans=len(spans))


def appointments_during(
    practitioner_id: int | None, starts_at: datetime, ends_at: datetime
) -> list[Appointment]:
    """Booked appointments an absence falls on: the desk calls these patients."""
    booked = Appointment.objects.filter(
        status__in=HOLDING, starts_at__lt=ends_at, ends_at__gt=starts_at, starts_at__isnull=False
    ).filter(status="booked")
    if practitioner_id is not None:
        booked = booked.filter(practitioner_id=practitioner_id)
    return list(booked.order_by("starts_at"))


def absence_add(
    *,
    actor: Actor,
    practitioner_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    label: str = "",
) -> tuple[Absence, list[Appointment]]:
    """A practitioner away, or the practice closed (``practitioner_id`` empty). Its slots
    disappear; the appointments already booked then are returned, to call the patients
    (they are not cancelled behind anyone's back). Audited ``agenda.absence_added``."""
    if practitioner_id is None:
        practice_id = _require_agenda(actor, "agenda:closure")
    else:
        practice_id = _require_schedule(actor, practitioner_id, f"person:{practitioner_id}")
        check_practitioner(actor, practitioner_id)
    if ends_at <= starts_at:
        raise field_error("ends_at", _("The end must come after the start."), "order")
    if ends_at - starts_at > timedelta(days=366):
        raise field_error("ends_at", _("An absence lasts a year at most."), "long")
    absence = Absence.objects.create(
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        starts_at=starts_at,
        ends_at=ends_at,
        label=label.strip()[:100],
        created_by_id=actor.person_id,
    )
    _event(
        "agenda.absence_added",
        actor,
        f"person:{practitioner_id}" if practitioner_id else "practice",
        starts=starts_at.isoformat(),
        ends=ends_at.isoformat(),
    )
    return absence, appointments_during(practitioner_id, starts_at, ends_at)


def absence_remove(*, actor: Actor, absence_id: int) -> None:
    absence = Absence.objects.filter(pk=absence_id).first()
    if absence is None:
        raise ValidationError(_("No such absence."), code="unknown")
    if absence.practitioner_id is None:
        _require_agenda(actor, "agenda:closure")
    else:
        _require_schedule(actor, absence.practitioner_id, f"person:{absence.practitioner_id}")
    absence.delete()
    _event("agenda.absence_removed", actor, f"absence:{absence_id}")


def french_public_holidays(year: int) -> list[tuple[date, str]]:
    """The eleven public holidays of metropolitan France (Code du travail, L3133-1)."""
    easter_day = easter(year)
    return [
        (date(year, 1, 1), _("New Year's Day")),
        (easter_day + timedelta(days=1), _("Easter Monday")),
        (date(year, 5, 1), _("Labour Day")),
        (date(year, 5, 8), _("Victory in Europe Day")),
        (easter_day + timedelta(days=39), _("Ascension Day")),
        (easter_day + timedelta(days=50), _("Whit Monday")),
        (date(year, 7, 14), _("Bastille Day")),
        (date(year, 8, 15), _("Assumption Day")),
        (date(year, 11, 1), _("All Saints' Day")),
        (date(year, 11, 11), _("Armistice Day")),
        (date(year, 12, 25), _("Christmas Day")),
    ]


@transaction.atomic
def holidays_add(*, actor: Actor, year: int) -> int:
    """Close the practice on the year's public holidays (those not entered yet)."""
    practice_id = _require_agenda(actor, "agenda:closure")
    if not 2000 <= year <= 2100:
        raise field_error("year", _("Give a year between 2000 and 2100."), "year")
    added = 0
    for day, label in french_public_holidays(year):
        starts = at(day, time.min)
        ends = datetime.combine(day + timedelta(days=1), time.min, tzinfo=local_zone())
        exists = Absence.objects.filter(
            practitioner__isnull=True, is_holiday=True, starts_at=starts
        ).exists()
        if exists:
            continue
        Absence.objects.create(
            practice_id=practice_id,
            starts_at=starts,
            ends_at=ends,
            label=str(label),
            is_holiday=True,
            created_by_id=actor.person_id,
        )
        added += 1
    _event("agenda.holidays_added", actor, "practice", year=year, added=added)
    return added
