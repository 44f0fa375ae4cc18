"""The agenda on paper, printed in French for its reader: the appointment card handed to
the patient, and each practitioner's day sheet and week.

The rows come from the selectors, already judged by the access policy (a secretary's
sheet carries no clinical reason; a patient the reader may not see is a busy time) and
audited once per patient shown (``appointment.read``). The card is audited
``appointment.print``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import formats, timezone, translation

from agenda import selectors
from agenda.models import Site
from agenda.selectors.appointments import AppointmentRow
from agenda.selectors.slots import local_zone
from core.access.policy import Actor, Category, Purpose
from core.accounts.models import Person
from core.audit.services import record_event
from core.documents.pdf import render_pdf
from core.practices.models import Practice


def day_in_words(moment: date) -> str:
    """ "mardi 14 mai 2024", in French whatever the reader's language on screen."""
    with translation.override("fr"):
        return str(formats.date_format(moment, "l j F Y"))


def time_in_words(moment: datetime) -> str:
    """ "9 h 05": how a French card writes the time."""
    local = moment.astimezone(local_zone())
    return f"{local.hour} h {local.minute:02d}"


def when_in_words(moment: datetime) -> str:
    local = moment.astimezone(local_zone())
    return f"le {day_in_words(local.date())} à {time_in_words(local)}"


@dataclass(frozen=True)
class Printed:
    """One appointment as a sheet prints it."""

    row: AppointmentRow
    time: str
    ends: str


def _printed(rows: list[AppointmentRow]) -> list[Printed]:
    return [
        Printed(
            row,
            time_in_words(row.starts_at) if row.starts_at else "",
            time_in_words(row.ends_at) if row.ends_at else "",
        )
        for row in rows
    ]


def _site(name: str) -> Site | None:
    """The appointment's site (by its name, unique in a practice), else the main one."""
    found = selectors.sites()
    return next((site for site in found if site.name == name), found[0] if found else None)


def appointment_card(actor: Actor, practice: Practice, row: AppointmentRow) -> bytes:
    """The card for the patient: where, with whom, when (in words), how to cancel, and
    their next appointments."""
    with translation.override("fr"):
        return _card(actor, practice, row)


def _card(actor: Actor, practice: Practice, row: AppointmentRow) -> bytes:
    assert row.starts_at is not None
    upcoming = (
        [
            other
            for other in selectors.patient_appointments(actor, row.patient_id)
            if other.id != row.id and other.starts_at and other.starts_at > row.starts_at
        ]
        if row.patient_id
        else []
    )
    record_event(
        "appointment.print",
        actor=actor,
        patient_id=row.patient_id,
        category=Category.ADMINISTRATIVE.value,
        purpose=Purpose.ADMINISTRATION.value,
        target=f"appointment:{row.id}",
    )
    return render_pdf(
        "agenda/pdf/card.html",
        {
            "practice": practice,
            "site": _site(row.site_name),
            "row": row,
            "when": when_in_words(row.starts_at),
            "upcoming": [
                (other, when_in_words(other.starts_at)) for other in upcoming[:6] if other.starts_at
            ],
            "printed_on": timezone.localdate(),
        },
    )


def day_sheet(actor: Actor, practice: Practice, practitioner: Person, day: date) -> bytes:
    with translation.override("fr"):  # the status of each row, in the sheet's language
        return _day_sheet(actor, practice, practitioner, day)


def _day_sheet(actor: Actor, practice: Practice, practitioner: Person, day: date) -> bytes:
    rows = selectors.practitioner_days(actor, practitioner.pk, day, 1)
    return render_pdf(
        "agenda/pdf/sheet.html",
        {
            "practice": practice,
            "practitioner": practitioner,
            "title": f"Journée du {day_in_words(day)}",
            "days": [(day_in_words(day), _printed(rows))],
            "printed_on": timezone.localdate(),
        },
    )


def week_sheet(actor: Actor, practice: Practice, practitioner: Person, monday: date) -> bytes:
    with translation.override("fr"):
        return _week_sheet(actor, practice, practitioner, monday)


def _week_sheet(actor: Actor, practice: Practice, practitioner: Person, monday: date) -> bytes:
    rows = selectors.practitioner_days(actor, practitioner.pk, monday, 7)
    days: dict[date, list[AppointmentRow]] = {monday + timedelta(n): [] for n in range(7)}
    for row in rows:
        assert row.starts_at is not None
        days[row.starts_at.astimezone(local_zone()).date()].append(row)
    return render_pdf(
        "agenda/pdf/sheet.html",
        {
            "practice": practice,
            "practitioner": practitioner,
            "title": f"Semaine du {day_in_words(monday)}",
            "days": [
                (day_in_words(day), _printed(found))
                for day, found in days.items()
                if day.weekday() < 5 or found
            ],
            "printed_on": timezone.localdate(),
        },
    )
