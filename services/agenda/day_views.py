"""The practitioner's day ("Aujourd'hui") and the practice home built on it.

The practice home (/p/<slug>/) shows today, not a list of roles: a practitioner gets
their day and waiting room; the desk the waiting room and each practitioner's day at a
glance (names, times, types — never a clinical reason); an administrator without a
clinical role the team, the settings and the day's counts. Which one is asked of the
policy and of the practice's roster, never of role names.

The home lives here, not in core, because core cannot import the agenda
(tests/test_layers.py): the composition root (carnet/urls.py) routes the address to
``home`` before core's own fallback page.

Every page here runs a fixed number of queries whatever the number of appointments
(tests/agenda/test_day_pages.py counts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from agenda import selectors, services
from agenda.models import Status
from agenda.selectors.appointments import AppointmentRow
from agenda.selectors.day import day_counts, practice_day
from core.access.policy import (
    Action,
    Actor,
    Category,
    PatientFacts,
    PracticeAction,
    Purpose,
    decide,
    decide_practice,
)
from core.accounts.models import Role
from core.accounts.selectors import acts_as_practitioner, staff_of_practice
from core.links import by_id
from core.practices.context import PracticeRequest, practice_view

TODAY, DESK, ADMIN = "today", "desk", "admin"


def home_kind(actor: Actor) -> str:
    """Which home this person gets: their own day when they have an agenda (a
    practitioner of the practice); the desk's when the policy lets them write the
    practice's patients' administrative data (check-in, booking); otherwise the
    administrator's, which shows no patient."""
    practice_id = actor.practice_id or 0
    if acts_as_practitioner(actor):
        return TODAY
    desk = decide(
        actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        Purpose.ADMINISTRATION,
        PatientFacts(patient_id=0, practice_id=practice_id),
    )
    return DESK if desk.allowed else ADMIN


def _next_patient(waiting: list[AppointmentRow], booked: list[AppointmentRow]) -> int | None:
    """The appointment the practitioner most likely receives next: the longest waiting
    patient, else the next booked one not over yet."""
    for row in waiting:
        if _receivable(row):
            return row.id
    now = timezone.now()
    for row in booked:
        if _receivable(row) and row.status == Status.BOOKED and (row.ends_at or now) >= now:
            return row.id
    return None


def _receivable(row: AppointmentRow) -> bool:
    return not row.hidden and row.registered and row.status in (Status.BOOKED, Status.ARRIVED)


@dataclass(frozen=True)
class DayLine:
    """One row of the day as the page shows it, its links made once here rather than by
    the template (a ``{% url %}`` per row cost more than the rest of the row)."""

    row: AppointmentRow
    chart_url: str  # "" when the reader may not open the chart (a busy time, a caller)
    receive_url: str  # "" unless the practitioner may call this patient in
    resume_url: str  # the consultation started from this appointment, when one is
    is_next: bool  # the line holding the keys (Alt+R, Alt+D)

    @property
    def waited(self) -> str:
        """How long the patient has waited ("17 min"), for the waiting room's column.
        Here rather than in the Jinja2 rows: ``make messages`` finds a plural in Python
        code, not in a Jinja2 template."""
        minutes = self.row.waiting_minutes
        if minutes is None:
            return ""
        return ngettext("%(minutes)s min", "%(minutes)s min", minutes) % {"minutes": minutes}


def _lines(
    rows: list[AppointmentRow], slug: str, next_id: int | None, holds_next: bool
) -> list[DayLine]:
    chart = by_id("records:chart", slug)
    receive = by_id("agenda:receive", slug)
    consultation = by_id("records:consultation-new", slug)
    lines = []
    for row in rows:
        visible = not row.hidden and row.patient_id is not None
        pid = row.patient_id or 0
        lines.append(
            DayLine(
                row=row,
                chart_url=chart(pid) if visible else "",
                receive_url=receive(row.id) if _receivable(row) else "",
                resume_url=f"{consultation(pid)}?origin=appointment:{row.id}"
                if visible and row.status == Status.IN_CONSULTATION
                else "",
                is_next=holds_next and row.id == next_id,
            )
        )
    return lines


def _today_context(actor: Actor, slug: str) -> dict[str, Any]:
    day = selectors.today_for(actor, actor.person_id)
    next_id = _next_patient(day.waiting, day.appointments)
    # A patient checked in is in both lists: the keys and the focus go to one line.
    in_waiting = any(row.id == next_id for row in day.waiting)
    return {
        "day": day,
        "waiting_lines": _lines(day.waiting, slug, next_id, in_waiting),
        "day_lines": _lines(day.appointments, slug, next_id, not in_waiting),
    }


def with_rows(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """The context of agenda/day/_today.html with its rows rendered by Jinja2.

    The rows are most of the page's rendering time in Django's engine (4.6 of 5.1 ms for a
    day of 40 lines); in Jinja2 they cost a fraction of it, and the HTML is the same
    (tests/agenda/test_today_render.py)."""
    rows = engines["jinja2"].get_template("agenda/day/_rows.html")
    # One CSRF field for every form of the page, as Django's {% csrf_token %} gives: the
    # backend's own csrf_input would mask the token anew at each of the rows' forms.
    csrf = csrf_input(request)
    return {
        **context,
        "waiting_rows": rows.render(
            {"lines": context["waiting_lines"], "waiting": True, "csrf": csrf}, request
        ),
        "day_rows": rows.render(
            {"lines": context["day_lines"], "waiting": False, "csrf": csrf}, request
        ),
    }


def _practice_context(request: PracticeRequest) -> dict[str, Any]:
    """What the old practice page offered, kept on every home: the patient search, the
    person's roles, the links, the team (one query)."""
    actor, practice_id = request.actor, request.practice.pk
    schedule = decide_practice(
        actor, PracticeAction.MANAGE_SCHEDULE, practice_id, subject_id=actor.person_id
    )
    return {
        "roles": [Role(role).label for role in sorted(actor.roles)],
        "may_manage_staff": decide_practice(actor, PracticeAction.MANAGE_STAFF, practice_id),
        "may_set_agenda": schedule.allowed
        or decide_practice(actor, PracticeAction.MANAGE_AGENDA, practice_id).allowed,
        "may_have_feed": decide_practice(
            actor, PracticeAction.MANAGE_OWN_FEED, practice_id, subject_id=actor.person_id
        ).allowed,
        "staff": staff_of_practice(practice_id),
    }


def _desk_context(actor: Actor) -> dict[str, Any]:
    day = practice_day(actor, timezone.localdate())
    people = selectors.practitioners(actor.practice_id or 0)
    by_practitioner: dict[int | None, list[AppointmentRow]] = {}
    for row in day.appointments:
        by_practitioner.setdefault(row.practitioner_id, []).append(row)
    return {
        "waiting": day.waiting,
        "days": [(person, by_practitioner.get(person.pk, [])) for person in people],
    }


def _admin_context(actor: Actor) -> dict[str, Any]:
    counts = day_counts(timezone.localdate())
    people = selectors.practitioners(actor.practice_id or 0)
    rows = [(person, counts.get(person.pk)) for person in people]
    unassigned = counts.get(None)
    return {
        "counts": rows,
        "walk_ins_waiting": unassigned.waiting if unassigned else 0,
        "total": sum(count.total for count in counts.values()),
    }


@practice_view
@require_GET
def home(request: PracticeRequest) -> HttpResponse:
    """The practice home: today, as this person works it."""
    kind = home_kind(request.actor)
    context: dict[str, Any] = {"kind": kind, "today": timezone.localdate()}
    if kind == TODAY:
        context.update(with_rows(request, _today_context(request.actor, request.practice.slug)))
    elif kind == DESK:
        context.update(_desk_context(request.actor))
    else:
        context.update(_admin_context(request.actor))
    context.update(_practice_context(request))
    return render(request, "agenda/day/home.html", context)


@practice_view
@require_GET
def today(request: PracticeRequest) -> HttpResponse:
    """The practitioner's own day; whoever has no agenda finds their home instead."""
    if home_kind(request.actor) != TODAY:
        return redirect("practices:home", request.practice.slug)
    context = with_rows(request, _today_context(request.actor, request.practice.slug))
    context["today"] = timezone.localdate()
    return render(request, "agenda/day/today.html", context)


def consultation_url(slug: str, patient_id: int, appointment_id: int) -> str:
    """The consultation form, started from this appointment: once saved, it closes the
    appointment and is linked to it (records.signals, agenda.receivers)."""
    url = reverse("records:consultation-new", args=[slug, patient_id])
    return f"{url}?origin=appointment:{appointment_id}"


@practice_view
@require_POST
def receive(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    """ "Recevoir": the practitioner calls the patient in (agenda.services.start) and the
    consultation form opens, its documentation time starting now."""
    try:
        appointment = services.start(actor=request.actor, appointment_id=appointment_id)
    except ValidationError as error:
        if getattr(error, "code", "") == "unknown":
            raise Http404(error.messages[0]) from None
        for message in error.messages:
            messages.error(request, message)
        return redirect("agenda:today", request.practice.slug)
    assert appointment.patient_id is not None  # start refuses a caller not registered
    return redirect(consultation_url(request.practice.slug, appointment.patient_id, appointment.pk))
