"""Free time: a practitioner's opening hours for a day (the usual week, or that day's
exception), less absences and the practice's holidays, less the appointments already
held. Four queries for any horizon and any number of practitioners."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from agenda.models import HOLDING, Absence, Appointment, Channel, DayHours, OpeningHours

# Free slots start on this grid after an appointment of odd length (9:10, not 9:07).
GRID_MINUTES = 5


@dataclass(frozen=True)
class Span:
    starts: datetime
    ends: datetime
    site_id: int | None = None


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    starts: datetime
    ends: datetime
    site_id: int | None


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=local_zone())


@dataclass
class Week:
    """What the free time of some practitioners over some days is made of."""

    hours: dict[tuple[int, int], list[OpeningHours]]  # (practitioner, weekday)
    day_hours: dict[tuple[int, date], list[DayHours]]  # (practitioner, date)
    absences: list[Absence]
    busy: dict[int, list[tuple[datetime, datetime]]]  # practitioner -> held times

    def open_spans(self, practitioner_id: int, day: date) -> list[Span]:
        """Opening hours of the day, less absences (not less appointments)."""
        rows: Iterable[OpeningHours | DayHours] = self.day_hours.get((practitioner_id, day)) or (
            self.hours.get((practitioner_id, day.weekday()), [])
        )
        spans = [Span(at(day, row.starts), at(day, row.ends), row.site_id) for row in rows]
        away = [
            (a.starts_at, a.ends_at)
            for a in self.absences
            if a.practitioner_id in (None, practitioner_id)
        ]
        return subtract(spans, away)

    def free_spans(self, practitioner_id: int, day: date) -> list[Span]:
        return subtract(self.open_spans(practitioner_id, day), self.busy.get(practitioner_id, []))


def subtract(spans: list[Span], holes: list[tuple[datetime, datetime]]) -> list[Span]:
    result = []
    for span in sorted(spans, key=lambda s: s.starts):
        pieces = [span]
        for hole_start, hole_end in holes:
            next_pieces = []
            for piece in pieces:
                if hole_end <= piece.starts or hole_start >= piece.ends:
                    next_pieces.append(piece)
                    continue
                if hole_start > piece.starts:
                    next_pieces.append(Span(piece.starts, hole_start, piece.site_id))
                if hole_end < piece.ends:
                    next_pieces.append(Span(hole_end, piece.ends, piece.site_id))
            pieces = next_pieces
        result.extend(pieces)
    return result


def load_week(
    practitioner_ids: list[int],
    first: date,
    last: date,
    *,
    ignore: int | None = None,
    with_busy: bool = True,
) -> Week:
    """Four queries (three without ``with_busy``: a booking checks only the hours, the
    database itself refuses an overlap). ``ignore``: an appointment not counted as busy
    (the one being moved)."""
    zone = local_zone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    hours: dict[tuple[int, int], list[OpeningHours]] = {}
    for usual in OpeningHours.objects.filter(practitioner_id__in=practitioner_ids):
        hours.setdefault((usual.practitioner_id, usual.weekday), []).append(usual)
    day_hours: dict[tuple[int, date], list[DayHours]] = {}
    for exception in DayHours.objects.filter(
        practitioner_id__in=practitioner_ids, day__gte=first, day__lte=last
    ):
        day_hours.setdefault((exception.practitioner_id, exception.day), []).append(exception)
    absences = list(
        Absence.objects.filter(
            Q(practitioner_id__in=practitioner_ids) | Q(practitioner__isnull=True),
            starts_at__lt=end,
            ends_at__gt=start,
        )
    )
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    if not with_busy:
        return Week(hours, day_hours, absences, busy)
    held = (
        Appointment.objects.filter(
            practitioner_id__in=practitioner_ids,
            status__in=HOLDING,
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .exclude(channel=Channel.WALK_IN)
        .exclude(pk=ignore or 0)
        .values_list("practitioner_id", "starts_at", "ends_at")
    )
    for practitioner_id, starts, ends in held:
        if starts is not None and ends is not None:
            busy.setdefault(practitioner_id, []).append((starts, ends))
    return Week(hours, day_hours, absences, busy)


def _round_up(moment: datetime) -> datetime:
    moment = moment.astimezone(local_zone()).replace(second=0, microsecond=0)
    extra = moment.minute % GRID_MINUTES
    return moment + timedelta(minutes=(GRID_MINUTES - extra) % GRID_MINUTES)


def free_slots(
    practitioner_ids: list[int],
    minutes: int,
    *,
    after: datetime | None = None,
    days: int = 28,
    limit: int = 8,
) -> list[Slot]:
    """The next free slots of ``minutes`` for these practitioners, soonest first."""
    after = _round_up(after or timezone.now())
    first = after.astimezone(local_zone()).date()
    last = first + timedelta(days=days)
    week = load_week(practitioner_ids, first, last)
    length = timedelta(minutes=minutes)
    found: list[Slot] = []
    day = first
    while day <= last and len(found) < limit:
        of_the_day: list[Slot] = []
        for practitioner_id in practitioner_ids:
            for span in week.free_spans(practitioner_id, day):
                moment = max(_round_up(span.starts), after)
                while moment + length <= span.ends:
                    of_the_day.append(Slot(practitioner_id, moment, moment + length, span.site_id))
                    moment += length
        of_the_day.sort(key=lambda slot: (slot.starts, slot.practitioner_id))
        found.extend(of_the_day[: limit - len(found)])
        day += timedelta(days=1)
    return found


def fits(week: Week, practitioner_id: int, starts: datetime, ends: datetime) -> Span | None:
    """The open span (hours less absences) holding this time, if any."""
    day = starts.astimezone(local_zone()).date()
    for span in week.open_spans(practitioner_id, day):
        if span.starts <= starts and ends <= span.ends:
            return span
    return None
