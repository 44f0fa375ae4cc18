"""Reading documentation time: one practitioner's month (their own, or shared with
them), and the practice's totals for its administrators. No patient is named: the
report counts acts, patients and minutes.

The working day is taken from the acts themselves: from the first moment of the day
(a form opened or a patient called in) to the last save. The share of the day spent
documenting is the measured time over that span. Declared times are totalled apart.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Actor, CareTimeView, decide_care_time
from core.accounts.models import Person
from core.audit.services import record_event
from records.models import ActKind, CareTimeSharing, DocumentationAct
from records.services.care_time import require_care_time
from records.vitals import Plot, plot


@dataclass
class KindLine:
    kind: str
    label: str
    acts: int = 0
    measured_seconds: int = 0
    declared_seconds: int = 0
    unmeasured: int = 0
    capped: int = 0


@dataclass(frozen=True)
class ConsultationLine:
    saved_at: datetime
    documentation_seconds: int | None
    # Called in to note saved, from the agenda (None without an appointment).
    visit_seconds: int | None
    declared_seconds: int | None


@dataclass
class CareTimeReport:
    practitioner: Person
    month: date
    kinds: list[KindLine]
    consultations: list[ConsultationLine]
    patients_seen: int
    working_seconds: int
    trends: list[Plot] = field(default_factory=list)
    shared: bool = False

    @property
    def measured_seconds(self) -> int:
        return sum(line.measured_seconds for line in self.kinds)

    @property
    def declared_seconds(self) -> int:
        return sum(line.declared_seconds for line in self.kinds)

    @property
    def acts(self) -> int:
        return sum(line.acts for line in self.kinds)

    @property
    def per_patient_seconds(self) -> int:
        return self.measured_seconds // self.patients_seen if self.patients_seen else 0

    @property
    def share_percent(self) -> int | None:
        if not self.working_seconds:
            return None
        return round(100 * self.measured_seconds / self.working_seconds)


@dataclass
class PracticeSummary:
    month: date
    kinds: list[KindLine]
    practitioners: int
    working_seconds: int

    @property
    def measured_seconds(self) -> int:
        return sum(line.measured_seconds for line in self.kinds)

    @property
    def declared_seconds(self) -> int:
        return sum(line.declared_seconds for line in self.kinds)

    @property
    def acts(self) -> int:
        return sum(line.acts for line in self.kinds)

    @property
    def share_percent(self) -> int | None:
        if not self.working_seconds:
            return None
        return round(100 * self.measured_seconds / self.working_seconds)


def month_span(month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    return start, datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)


def _acts(month: date, practitioner_id: int | None = None) -> list[DocumentationAct]:
    start, end = month_span(month)
    acts = DocumentationAct.objects.filter(saved_at__gte=start, saved_at__lt=end)
    if practitioner_id is not None:
        acts = acts.filter(practitioner_id=practitioner_id)
    return list(acts.order_by("saved_at"))


def _by_kind(acts: list[DocumentationAct]) -> list[KindLine]:
    lines = {kind: KindLine(kind, str(label)) for kind, label in ActKind.choices}
    for act in acts:
        line = lines[act.kind]
        line.acts += 1
        if act.measured_seconds is None:
            line.unmeasured += 1
        else:
            line.measured_seconds += act.measured_seconds
        line.declared_seconds += act.declared_seconds or 0
        line.capped += int(act.capped)
    return list(lines.values())


def _working_seconds(acts: list[DocumentationAct]) -> int:
    """Per practitioner and day: first moment (opened, called in) to the last save."""
    spans: dict[tuple[int, date], list[datetime]] = defaultdict(list)
    for act in acts:
        day = timezone.localtime(act.saved_at).date()
        moments = [act.saved_at]
        moments += [m for m in (act.opened_at, act.visit_started_at) if m is not None]
        spans[(act.practitioner_id, day)].extend(moments)
    return int(sum((max(m) - min(m)).total_seconds() for m in spans.values()))


def _consultations(acts: list[DocumentationAct]) -> list[ConsultationLine]:
    return [
        ConsultationLine(
            act.saved_at,
            act.measured_seconds,
            int((act.saved_at - act.visit_started_at).total_seconds())
            if act.visit_started_at is not None
            else None,
            act.declared_seconds,
        )
        for act in acts
        if act.kind == ActKind.CONSULTATION
    ]


def _months_back(month: date, count: int) -> list[date]:
    months, current = [], month.replace(day=1)
    for _i in range(count):
        months.append(current)
        current = (current - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def _trends(practitioner_id: int, month: date) -> list[Plot]:
    """Twelve months: hours of documentation, and minutes per consultation."""
    months = _months_back(month, 12)
    start, _end = month_span(months[0])
    _start, end = month_span(months[-1])
    hours: dict[date, Decimal] = {m: Decimal(0) for m in months}
    notes: dict[date, list[int]] = {m: [] for m in months}
    acts = DocumentationAct.objects.filter(
        practitioner_id=practitioner_id,
        saved_at__gte=start,
        saved_at__lt=end,
        measured_seconds__isnull=False,
    ).values_list("saved_at", "kind", "measured_seconds")
    for saved_at, kind, measured in acts:
        seconds = measured or 0
        key = timezone.localtime(saved_at).date().replace(day=1)
        hours[key] += Decimal(seconds) / 3600
        if kind == ActKind.CONSULTATION:
            notes[key].append(seconds)
    zone = timezone.get_current_timezone()

    def at(m: date) -> datetime:
        return datetime.combine(m, time(12), tzinfo=zone)

    plots = [
        plot(
            "care-hours",
            _("Hours of documentation per month"),
            [(_("Hours"), "weight", [(at(m), round(hours[m], 1)) for m in months])],
            "h",
            least_pad=0.5,
        ),
        plot(
            "care-per-note",
            _("Minutes per consultation note, per month"),
            [
                (
                    _("Minutes"),
                    "systolic",
                    [
                        (at(m), round(Decimal(sum(v)) / 60 / len(v), 1))
                        for m in months
                        if (v := notes[m])
                    ],
                )
            ],
            "min",
            least_pad=0.5,
        ),
    ]
    return [p for p in plots if p is not None]


def is_shared(practice_id: int, practitioner_id: int) -> bool:
    return CareTimeSharing.objects.filter(
        practice_id=practice_id, practitioner_id=practitioner_id, shared=True
    ).exists()


def care_time_report(*, actor: Actor, practitioner_id: int, month: date) -> CareTimeReport:
    """One practitioner's month, for themself or a colleague they share it with."""
    assert actor.practice_id is not None
    require_care_time(actor, CareTimeView.PRACTITIONER, actor.practice_id, practitioner_id)
    person = Person.objects.get(pk=practitioner_id)
    acts = _acts(month, practitioner_id)
    record_event("care_time.read", actor=actor, target=f"person:{practitioner_id}:{month:%Y-%m}")
    return CareTimeReport(
        practitioner=person,
        month=month,
        kinds=_by_kind(acts),
        consultations=_consultations(acts),
        patients_seen=len({a.patient_id for a in acts if a.patient_id is not None}),
        working_seconds=_working_seconds(acts),
        trends=_trends(practitioner_id, month),
        shared=is_shared(actor.practice_id, practitioner_id),
    )


def care_time_readable(actor: Actor) -> list[Person]:
    """The practitioners whose figures the actor may read: themself, and the colleagues
    who share theirs (asked of the policy, one by one)."""
    if actor.practice_id is None:
        return []
    shared = set(
        CareTimeSharing.objects.filter(practice_id=actor.practice_id, shared=True).values_list(
            "practitioner_id", flat=True
        )
    )
    candidates = Person.objects.filter(pk__in=shared | {actor.person_id}).order_by("full_name")
    return [
        p
        for p in candidates
        if decide_care_time(
            actor, CareTimeView.PRACTITIONER, actor.practice_id, p.pk, shared=p.pk in shared
        )
    ]


def care_time_links(actor: Actor) -> dict[str, bool]:
    """Which of the documentation-time pages the actor may open (for the links shown)."""
    if actor.practice_id is None:
        return {"own": False, "practice": False}
    return {
        "own": bool(decide_care_time(actor, CareTimeView.OWN, actor.practice_id, actor.person_id)),
        "practice": bool(decide_care_time(actor, CareTimeView.PRACTICE, actor.practice_id)),
    }


def care_time_practice(*, actor: Actor, month: date) -> PracticeSummary:
    """The practice's totals for its administrators: no practitioner's own line."""
    assert actor.practice_id is not None
    require_care_time(actor, CareTimeView.PRACTICE, actor.practice_id)
    acts = _acts(month)
    record_event("care_time.read_practice", actor=actor, target=f"month:{month:%Y-%m}")
    return PracticeSummary(
        month=month,
        kinds=_by_kind(acts),
        practitioners=len({a.practitioner_id for a in acts}),
        working_seconds=_working_seconds(acts),
    )
