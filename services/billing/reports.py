""" "Data entry is care work": per practitioner and month, the consultations, the time
spent documenting them, and the fees invoiced."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from billing.models import Invoice
from core.accounts.models import Person
from records.selectors.billing import documentation_time


@dataclass(frozen=True)
class CareWorkLine:
    person: Person
    consultations: int
    documentation_seconds: int
    fees: Decimal

    @property
    def documentation_hours(self) -> str:
        minutes = self.documentation_seconds // 60
        return f"{minutes // 60} h {minutes % 60:02d}"

    @property
    def minutes_per_consultation(self) -> str:
        if not self.consultations:
            return "—"
        return f"{self.documentation_seconds / 60 / self.consultations:.1f}"


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


def care_work(month: date) -> list[CareWorkLine]:
    start, end = month_bounds(month)
    time = {row.author_id: row for row in documentation_time(start=start, end=end)}
    fees: dict[int, Decimal] = {}
    issued = (
        Invoice.objects.filter(
            status="issued",
            service_date__gte=start,
            service_date__lte=end,
            issuer__person__isnull=False,
        )
        .values("issuer__person", "kind")
        .annotate(total=Sum("total"))
    )
    for row in issued:
        sign = -1 if row["kind"] == Invoice.Kind.CREDIT_NOTE else 1
        person_id = row["issuer__person"]
        fees[person_id] = fees.get(person_id, Decimal("0.00")) + sign * row["total"]
    people = Person.objects.in_bulk(set(time) | set(fees))
    lines = [
        CareWorkLine(
            person=people[person_id],
            consultations=time[person_id].consultations if person_id in time else 0,
            documentation_seconds=time[person_id].seconds if person_id in time else 0,
            fees=fees.get(person_id, Decimal("0.00")),
        )
        for person_id in people
    ]
    return sorted(lines, key=lambda line: line.person.full_name)
