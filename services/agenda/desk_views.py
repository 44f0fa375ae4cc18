"""The desk's pages: a practitioner's week (and day), booking on the phone, one
appointment (move, cancel, missed, check-in, calling in, the card), the waiting room.

Thin views: what may be read or changed, and what is audited, is decided in
``agenda.services`` and ``agenda.selectors`` (and the one access policy they ask). A
refused write answers 403 (``AccessDenied``); bad input answers 400 with the form and
the service's words.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agenda import printing, selectors, services
from agenda.desk_forms import ANY, BookingForm, CancelForm, MoveForm, WalkInForm, parse_slot, when
from agenda.models import Status
from agenda.selectors.appointments import AppointmentRow, appointment_open
from agenda.selectors.slots import Slot, local_zone
from agenda.services.booking import Booking, SlotTaken, appointment_for_change
from core.access import selectors as access_selectors
from core.accounts.models import Person
from core.documents.pdf import pdf_response
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view
from records.selectors.patients import patient_get, patient_search

SEARCH_LIMIT = 10


# --- what every page needs ---------------------------------------------------------------


def _people(request: PracticeRequest) -> list[Person]:
    return selectors.practitioners(request.practice.pk)


def _choices(people: list[Person]) -> list[tuple[int, str]]:
    return [(person.pk, person.full_name) for person in people]


def _types() -> list[tuple[int, str]]:
    return [(kind.pk, kind.name) for kind in selectors.appointment_types()]


def _sees_patients(request: PracticeRequest, people: list[Person]) -> bool:
    """The actor has an agenda of their own (calls patients in, marks a reason
    administrative): one of the practice's practitioners, as the selector lists them."""
    return any(person.pk == request.actor.person_id for person in people)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _day(value: str | None) -> date | None:
    """A date typed in the address, within the years an agenda can hold (a week after
    31/12/9999 does not exist)."""
    try:
        found = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return found if found is not None and 2000 <= found.year <= 2100 else None


def _codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code or "" for errors in error.error_dict.values() for e in errors}
    return {e.code or "" for e in error.error_list}


def _changeable(request: PracticeRequest, appointment_id: int) -> None:
    """The gate of every change, before any form is read: the policy judges the actor's
    write on the appointment's patient (a refusal is audited, 403); an appointment of
    another practice is not found (404). Other refusals are the service's to say."""
    try:
        appointment_for_change(request.actor, appointment_id)
    except ValidationError as error:
        if "unknown" in _codes(error):
            raise Http404(_("No such appointment in this practice.")) from None


def _search(request: PracticeRequest) -> tuple[str, list[Any]]:
    query = request.GET.get("q", "").strip()[:100]
    found = patient_search(actor=request.actor, query=query, limit=SEARCH_LIMIT) if query else []
    return query, found


# --- the agenda: a practitioner's week or day -------------------------------------------


def _practitioner(request: PracticeRequest, people: list[Person], value: str | None) -> Person:
    """The practitioner asked for, else the actor's own agenda, else the first one."""
    if not people:
        raise Http404(_("This practice has no practitioner yet."))
    wanted = _int(value)
    if value and wanted is None:
        raise Http404(_("Choose a practitioner of this practice."))
    for person in people:
        if person.pk == (wanted or request.actor.person_id):
            return person
    if wanted is not None:
        raise Http404(_("Choose a practitioner of this practice."))
    return people[0]


@practice_view
@require_GET
def agenda(request: PracticeRequest) -> HttpResponse:
    people = _people(request)
    practitioner = _practitioner(request, people, request.GET.get("praticien"))
    today = timezone.localdate()
    day = _day(request.GET.get("jour"))
    if day is not None:
        first, days = day, 1
    else:
        shown = _day(request.GET.get("semaine")) or today
        first, days = shown - timedelta(days=shown.weekday()), 7
    rows = selectors.practitioner_days(request.actor, practitioner.pk, first, days)
    by_day: dict[date, list[AppointmentRow]] = {first + timedelta(n): [] for n in range(days)}
    for row in rows:
        assert row.starts_at is not None
        by_day.setdefault(row.starts_at.astimezone(local_zone()).date(), []).append(row)
    step = timedelta(days=days)
    return render(
        request,
        "agenda/desk/agenda.html",
        {
            "people": people,
            "practitioner": practitioner,
            "days": [(d, by_day[d]) for d in sorted(by_day) if d.weekday() < 6 or by_day[d]],
            "first": first,
            "last": first + step - timedelta(days=1),
            "is_day": days == 1,
            "previous": first - step,
            "next": first + step,
            "today": today,
        },
    )


# --- booking -------------------------------------------------------------------------------


def _free(form: BookingForm, people: list[Person]) -> list[Slot]:
    """The next free slots for the practitioner (or anyone) and type chosen on the form
    (as typed when posted and valid, else as first shown)."""
    data = form.cleaned_data if form.is_bound else form.initial
    chosen = _int(str(data.get("practitioner") or ""))
    ids = [chosen] if chosen is not None else [person.pk for person in people]
    type_id = _int(str(data.get("type") or ""))
    kinds = {kind.pk: kind.minutes for kind in selectors.appointment_types()}
    if not ids or type_id not in kinds:
        return []
    minutes = data.get("minutes") or kinds[type_id]
    if not 0 < minutes <= 480:
        return []  # the service says why when it is booked
    return selectors.free_slots(ids, minutes)


def _booking(form: BookingForm, request: PracticeRequest) -> tuple[Booking, bool]:
    """The booking typed, and whether a slot button (rather than a precise time) chose it."""
    data = form.cleaned_data
    practitioner_id = form.practitioner_id()
    slot = parse_slot(request.POST.get("slot", "")) if request.POST.get("slot") else None
    starts_at: datetime | None
    if slot is not None:
        practitioner_id, starts_at = slot
    else:
        starts_at = when(data.get("day"), data.get("at"))
    booking = Booking(
        practitioner_id=practitioner_id,
        type_id=form.type_id(),
        starts_at=starts_at,
        patient_id=data.get("patient"),
        caller_name=data.get("caller_name") or "",
        caller_phone=data.get("caller_phone") or "",
        channel=data.get("channel") or "",
        reason=data.get("reason") or "",
        reason_is_administrative=bool(data.get("reason_is_administrative")),
        minutes=data.get("minutes"),
        override_hours=slot is None and bool(data.get("override_hours")),
    )
    return booking, slot is not None


@practice_view
@require_http_methods(["GET", "POST"])
def book(request: PracticeRequest) -> HttpResponse:
    people = _people(request)
    types = _types()
    query, found = _search(request)
    source = request.POST if request.method == "POST" else request.GET
    patient_id = _int(source.get("patient"))
    patient = patient_get(actor=request.actor, patient_id=patient_id) if patient_id else None
    practitioner = source.get("praticien") or (
        str(patient.gp_id) if patient and patient.gp_id in {p.pk for p in people} else ANY
    )
    initial = {
        "patient": patient_id,
        "practitioner": practitioner,
        "type": str(types[0][0]) if types else "",
        "caller_name": source.get("caller_name", ""),
        "caller_phone": source.get("caller_phone", ""),
    }
    form = BookingForm(
        request.POST if request.method == "POST" else None,
        practitioners=_choices(people),
        types=types,
        initial=initial,
    )
    slots: list[Slot] = []
    status = 200
    choosing = patient is not None or bool(initial["caller_name"])
    if request.method == "GET":
        slots = _free(form, people) if choosing else []
    elif not form.is_valid():
        status = 400
    elif request.POST.get("action") == "slots":
        slots = _free(form, people)
    else:
        booking, _by_slot = _booking(form, request)
        every, count = form.cleaned_data.get("every_weeks"), form.cleaned_data.get("count")
        try:
            made = None
            if every or count:
                services.series_book(
                    actor=request.actor, booking=booking, every_weeks=every or 0, count=count or 0
                )
            else:
                made = services.appointment_book(actor=request.actor, booking=booking)
        except SlotTaken as taken:
            attach_service_errors(form, taken)
            slots = taken.next_slots
            status = 400
        except ValidationError as error:
            attach_service_errors(form, error)
            status = 400
        else:
            if made is None:
                messages.success(request, _("The series of appointments is booked."))
                assert booking.starts_at is not None and booking.practitioner_id is not None
                return redirect(
                    reverse("agenda:agenda", args=[request.practice.slug])
                    + f"?praticien={booking.practitioner_id}"
                    + f"&semaine={booking.starts_at.astimezone(local_zone()).date()}"
                )
            messages.success(request, _("Appointment booked."))
            return redirect("agenda:appointment", request.practice.slug, made.pk)
    names = dict(_choices(people))
    return render(
        request,
        "agenda/desk/book.html",
        {
            "form": form,
            "query": query,
            "found": found,
            "patient": patient,
            "slots": [(slot, names.get(slot.practitioner_id, "")) for slot in slots],
            "choosing": choosing or request.method == "POST",
            "sees_patients": _sees_patients(request, people),
        },
        status=status,
    )


# --- one appointment ---------------------------------------------------------------------


def _letters(request: PracticeRequest, rows: list[AppointmentRow]) -> list[Any]:
    """The letters the desk must hand to these patients (an emergency access to their
    record), each with the patient's name as the rows show it. None for a reader who is
    not the desk: the policy decides, in the selector."""
    names = {row.patient_id: row.name for row in rows if row.patient_id and not row.hidden}
    letters = access_selectors.letters_to_hand(request.actor, list(names))
    for letter in letters:
        letter.patient_name = names[letter.patient_id]  # type: ignore[attr-defined]
    return letters


def _appointment_page(
    request: PracticeRequest,
    appointment_id: int,
    *,
    move_form: MoveForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    row = appointment_open(request.actor, appointment_id)
    if row is None:
        raise Http404(_("No such appointment in this practice."))
    people = _people(request)
    query, found = _search(request) if not row.registered else ("", [])
    if move_form is None and row.starts_at is not None:
        local = row.starts_at.astimezone(local_zone())
        move_form = MoveForm(initial={"day": local.date(), "at": local.time()})
    return render(
        request,
        "agenda/desk/appointment.html",
        {
            "row": row,
            "move_form": move_form,
            "errors": errors or [],
            "query": query,
            "found": found,
            "sees_patients": _sees_patients(request, people),
            "is_booked": row.status == Status.BOOKED,
            "can_cancel": row.status in (Status.BOOKED, Status.ARRIVED),
            "can_receive": row.status in (Status.BOOKED, Status.ARRIVED)
            and row.registered
            and row.practitioner_id in (None, request.actor.person_id),
            "letters": _letters(request, [row]),
            "back": request.path,
        },
        status=status,
    )


@practice_view
@require_GET
def appointment(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    return _appointment_page(request, appointment_id)


@practice_view
@require_POST
def appointment_move(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    _changeable(request, appointment_id)
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_move(
                actor=request.actor,
                appointment_id=appointment_id,
                starts_at=when(form.cleaned_data["day"], form.cleaned_data["at"]),
                override_hours=form.cleaned_data["override_hours"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("Appointment moved."))
            return redirect("agenda:appointment", request.practice.slug, appointment_id)
    return _appointment_page(request, appointment_id, move_form=form, status=400)


@practice_view
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    if request.method == "POST":
        _changeable(request, appointment_id)
    row = appointment_open(request.actor, appointment_id)
    if row is None:
        raise Http404(_("No such appointment in this practice."))
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(
                actor=request.actor,
                appointment_id=appointment_id,
                reason=form.cleaned_data["cancel_reason"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("Appointment cancelled."))
            return redirect("agenda:appointment", request.practice.slug, appointment_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "agenda/desk/cancel.html", {"row": row, "form": form}, status=status)


def _simple_change(
    request: PracticeRequest, appointment_id: int, change: Any, done: str, **more: Any
) -> HttpResponse | None:
    """Run a change without a form; None when it was done, else the page with its error."""
    _changeable(request, appointment_id)
    try:
        change(actor=request.actor, appointment_id=appointment_id, **more)
    except ValidationError as error:
        return _appointment_page(request, appointment_id, errors=error.messages, status=400)
    messages.success(request, done)
    return None


@practice_view
@require_POST
def appointment_no_show(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    refused = _simple_change(
        request, appointment_id, services.appointment_no_show, _("Marked as missed.")
    )
    return refused or redirect("agenda:appointment", request.practice.slug, appointment_id)


@practice_view
@require_POST
def appointment_check_in(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    refused = _simple_change(
        request,
        appointment_id,
        services.check_in,
        _("The patient is in the waiting room."),
        patient_id=_int(request.POST.get("patient")),
    )
    return refused or redirect("agenda:waiting-room", request.practice.slug)


@practice_view
@require_GET
def appointment_card(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    row = appointment_open(request.actor, appointment_id)
    if row is None:
        raise Http404(_("No such appointment in this practice."))
    pdf = printing.appointment_card(request.actor, request.practice, row)
    return pdf_response(pdf, f"rendez-vous-{appointment_id}.pdf")


# --- the practitioners' paper: the day and the week -------------------------------------


def _sheet_of(request: PracticeRequest, practitioner_id: int, day: str) -> tuple[Person, date]:
    people = _people(request)
    practitioner = next((p for p in people if p.pk == practitioner_id), None)
    first = _day(day)
    if practitioner is None or first is None:
        raise Http404(_("No such agenda in this practice."))
    return practitioner, first


@practice_view
@require_GET
def day_sheet(request: PracticeRequest, practitioner_id: int, day: str) -> HttpResponse:
    practitioner, first = _sheet_of(request, practitioner_id, day)
    pdf = printing.day_sheet(request.actor, request.practice, practitioner, first)
    return pdf_response(pdf, f"journee-{first.isoformat()}.pdf")


@practice_view
@require_GET
def week_sheet(request: PracticeRequest, practitioner_id: int, day: str) -> HttpResponse:
    practitioner, first = _sheet_of(request, practitioner_id, day)
    monday = first - timedelta(days=first.weekday())
    pdf = printing.week_sheet(request.actor, request.practice, practitioner, monday)
    return pdf_response(pdf, f"semaine-{monday.isoformat()}.pdf")


# --- the waiting room ----------------------------------------------------------------------


def _waiting_page(
    request: PracticeRequest, walk_in_form: WalkInForm | None = None, status: int = 200
) -> HttpResponse:
    people = _people(request)
    sees_patients = _sees_patients(request, people)
    wanted = request.GET.get("praticien")
    if wanted is None and sees_patients:
        wanted = str(request.actor.person_id)  # a practitioner's own room by default
    shown = _practitioner(request, people, wanted) if wanted and wanted != ANY else None
    today = timezone.localdate()
    waiting = selectors.waiting_room(request.actor, today, shown.pk if shown else None)
    expected = [
        row
        for person in ([shown] if shown else people)
        for row in selectors.practitioner_days(request.actor, person.pk, today, 1)
        if row.status == Status.BOOKED and not row.hidden
    ]
    expected.sort(key=lambda row: (row.starts_at, row.id))
    query, found = _search(request)
    if walk_in_form is None:
        walk_in_form = WalkInForm(
            practitioners=_choices(people),
            types=_types(),
            initial={"practitioner": ANY, "patient": found[0].pk if len(found) == 1 else None},
        )
    return render(
        request,
        "agenda/desk/waiting_room.html",
        {
            "people": people,
            "shown": shown,
            "waiting": waiting,
            "expected": expected,
            "query": query,
            "found": found,
            "walk_in_form": walk_in_form,
            "sees_patients": sees_patients,
            "today": today,
            # Checked in: the desk hands over the letters these patients are owed.
            "letters": _letters(request, waiting),
            "back": request.path,
        },
        status=status,
    )


@practice_view
@require_GET
def waiting_room(request: PracticeRequest) -> HttpResponse:
    return _waiting_page(request)


@practice_view
@require_POST
def walk_in(request: PracticeRequest) -> HttpResponse:
    people = _people(request)
    form = WalkInForm(request.POST, practitioners=_choices(people), types=_types())
    if form.is_valid():
        try:
            services.walk_in(
                actor=request.actor,
                patient_id=form.cleaned_data["patient"],
                type_id=_int(form.cleaned_data["type"]),
                practitioner_id=form.practitioner_id(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, _("The patient joins the queue."))
            return redirect("agenda:waiting-room", request.practice.slug)
    return _waiting_page(request, walk_in_form=form, status=400)
