"""The agenda's frame as the pages and the API show it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Q

from agenda.models import Absence, AppointmentType, DayHours, OpeningHours, Site
from agenda.selectors.appointments import day_bounds
from core.accounts.models import Person
from core.accounts.selectors import clinicians_of_practice


def sites() -> list[Site]:
    return list(Site.objects.filter(is_active=True).order_by("name"))


def appointment_types(*, active_only: bool = True) -> list[AppointmentType]:
    found = AppointmentType.objects.order_by("name")
    return list(found.filter(is_active=True) if active_only else found)


def practitioners(practice_id: int) -> list[Person]:
    """Who has an agenda: the practice's active clinicians."""
    return clinicians_of_practice(practice_id)


def hours_of(practitioner_id: int) -> list[OpeningHours]:
    return list(
        OpeningHours.objects.filter(practitioner_id=practitioner_id)
        .select_related("site")
        .order_by("weekday", "starts")
    )


def day_hours_of(practitioner_id: int, first: date, days: int = 60) -> list[DayHours]:
    return list(
        DayHours.objects.filter(
            practitioner_id=practitioner_id, day__gte=first, day__lt=first + timedelta(days=days)
        )
        .select_related("site")
        .order_by("day", "starts")
    )


def absences_from(
    first: date, *, practitioner_id: int | None = None, days: int = 366
) -> list[Absence]:
    """Absences and closures ending after ``first`` (a practitioner's and the practice's
    when ``practitioner_id`` is given)."""
    start, _end = day_bounds(first)
    found = Absence.objects.filter(ends_at__gt=start, starts_at__lt=start + timedelta(days=days))
    if practitioner_id is not None:
        found = found.filter(Q(practitioner_id=practitioner_id) | Q(practitioner__isnull=True))
    return list(found.select_related("practitioner").order_by("starts_at"))


def absences_between(start: datetime, end: datetime) -> list[Absence]:
    return list(
        Absence.objects.filter(ends_at__gt=start, starts_at__lt=end)
        .select_related("practitioner")
        .order_by("starts_at")
    )
