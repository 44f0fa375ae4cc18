"""The whole practice's day, for the desk's home page and the administrator's counts.

``practice_day`` reads every appointment of the day and everyone in the waiting room in
three queries whatever their number (one for the appointments, two for their patients);
``day_counts`` reads no patient at all: one aggregate query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q

from agenda.models import Appointment, Status
from agenda.selectors.appointments import AppointmentRow, day_bounds, rows_for
from core.access.policy import Actor


@dataclass(frozen=True)
class PracticeDay:
    day: date
    appointments: list[AppointmentRow]  # with a time, every practitioner, in time order
    waiting: list[AppointmentRow]  # checked in and walk-ins, longest waiting first


def practice_day(actor: Actor, day: date) -> PracticeDay:
    """Every practitioner's appointments of the day and the waiting room (3 queries).
    Rows are judged and audited by ``rows_for``: a secretary never gets a clinical
    reason, a patient who excluded the reader is a busy time without a name."""
    start, end = day_bounds(day)
    timed = Q(starts_at__gte=start, starts_at__lt=end)
    waiting = Q(status=Status.ARRIVED, arrived_at__gte=start, arrived_at__lt=end)
    found = (
        Appointment.objects.select_related("type", "site", "practitioner")
        .filter(timed | waiting)
        .exclude(status=Status.CANCELLED)
        .order_by("starts_at", "arrived_at", "pk")
    )
    rows = rows_for(actor, found, target="agenda:practice-day")
    queue = sorted(
        (row for row in rows if row.status == Status.ARRIVED),
        key=lambda row: (row.arrived_at or start, row.id),
    )
    return PracticeDay(day, [row for row in rows if row.starts_at is not None], queue)


@dataclass(frozen=True)
class DayCount:
    practitioner_id: int | None  # None: walk-ins not taken by anyone yet
    booked: int
    waiting: int
    seen: int
    missed: int

    @property
    def total(self) -> int:
        return self.booked + self.waiting + self.seen + self.missed


def day_counts(day: date) -> dict[int | None, DayCount]:
    """How many appointments each practitioner has today, by state (no patient read)."""
    start, end = day_bounds(day)
    rows = (
        Appointment.objects.filter(
            Q(starts_at__gte=start, starts_at__lt=end)
            | Q(status=Status.ARRIVED, arrived_at__gte=start, arrived_at__lt=end)
        )
        .exclude(status=Status.CANCELLED)
        .values("practitioner_id")
        .annotate(
            booked=Count("pk", filter=Q(status=Status.BOOKED)),
            waiting=Count("pk", filter=Q(status=Status.ARRIVED)),
            seen=Count("pk", filter=Q(status__in=[Status.IN_CONSULTATION, Status.DONE])),
            missed=Count("pk", filter=Q(status=Status.NO_SHOW)),
        )
        .order_by()
    )
    return {
        row["practitioner_id"]: DayCount(
            row["practitioner_id"], row["booked"], row["waiting"], row["seen"], row["missed"]
        )
        for row in rows
    }


def rows_by_ids(actor: Actor, ids: list[int], *, target: str) -> list[AppointmentRow]:
    """These appointments as the actor may see them, in time order (3 queries): the
    ones an absence falls on, for the desk to call the patients."""
    if not ids:
        return []
    found = (
        Appointment.objects.select_related("type", "site", "practitioner")
        .filter(pk__in=ids)
        .order_by("starts_at", "pk")
    )
    return rows_for(actor, found, target=target)
