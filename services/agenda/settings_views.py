"""The agenda's settings pages: sites, appointment types, each practitioner's week and
one day's exceptions, absences and closures, the public holidays, and the
practitioner's own calendar feed.

Who may do what is the policy's (``PracticeAction.MANAGE_AGENDA`` for the practice's
frame, ``MANAGE_SCHEDULE`` for one practitioner's hours — the desk, or the practitioner
for themself —, ``MANAGE_OWN_FEED``): each page asks it before reading the form, so a
refusal is a 403 audited by ``require_practice`` whatever was posted. A bad form answers
400 with its errors; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from agenda import selectors, services
from agenda.models import Absence, AppointmentType, CalendarFeed, Site, Weekday
from agenda.selectors.day import rows_by_ids
from agenda.settings_forms import (
    AbsenceForm,
    ConfirmForm,
    DayForm,
    FeedForm,
    HolidaysForm,
    RevokeFeedForm,
    SiteForm,
    TypeForm,
    WeekForm,
)
from core.access.policy import PracticeAction, decide_practice
from core.access.services import require_practice
from core.accounts.models import Person
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view

GET_POST = ["GET", "POST"]


def _may(request: PracticeRequest, action: PracticeAction, subject_id: int | None = None) -> bool:
    return decide_practice(request.actor, action, request.practice.pk, subject_id).allowed


def _require(
    request: PracticeRequest, action: PracticeAction, target: str, subject_id: int | None = None
) -> None:
    require_practice(
        request.actor, action, request.practice.pk, target=target, subject_id=subject_id
    )


def _managed_practitioners(request: PracticeRequest) -> list[Person]:
    """The practitioners whose hours and absences this person may set."""
    return [
        person
        for person in selectors.practitioners(request.practice.pk)
        if _may(request, PracticeAction.MANAGE_SCHEDULE, person.pk)
    ]


def _practitioner(request: PracticeRequest, person_id: int) -> Person:
    """A practitioner of this practice whose schedule the person may set (403 audited
    otherwise; 404 for someone who has no agenda here)."""
    _require(request, PracticeAction.MANAGE_SCHEDULE, f"person:{person_id}", person_id)
    for person in selectors.practitioners(request.practice.pk):
        if person.pk == person_id:
            return person
    raise Http404(_("No such practitioner in this practice."))


def _sites() -> list[tuple[int, str]]:
    return [(site.pk, site.name) for site in selectors.sites()]


# --- the index -------------------------------------------------------------------------


@practice_view
@require_http_methods(["GET"])
def settings_index(request: PracticeRequest) -> HttpResponse:
    actor = request.actor
    _require(request, PracticeAction.MANAGE_SCHEDULE, "agenda:settings", actor.person_id)
    return render(
        request,
        "agenda/settings/index.html",
        {
            "may_frame": _may(request, PracticeAction.MANAGE_AGENDA),
            "may_feed": _may(request, PracticeAction.MANAGE_OWN_FEED, actor.person_id),
            "practitioners": _managed_practitioners(request),
            "sites": selectors.sites(),
            "types": selectors.appointment_types(active_only=False),
        },
    )


# --- sites and appointment types -------------------------------------------------------


def _edit(
    request: PracticeRequest,
    form: BaseForm,
    save: Callable[[dict[str, Any]], object],
    done: str,
    back: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A settings form: on a valid POST, ``save`` calls the service; saved, back to the
    list (``back``) with ``done`` said; refused, the form again with the reasons (400)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(back, request.practice.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, template, {"form": form, **context}, status=status)


@practice_view
@require_http_methods(GET_POST)
def site_edit(request: PracticeRequest, site_id: int | None = None) -> HttpResponse:
    _require(request, PracticeAction.MANAGE_AGENDA, f"site:{site_id or 'new'}")
    site = Site.objects.filter(pk=site_id).first() if site_id else None
    if site_id and site is None:
        raise Http404(_("No such site in this practice."))
    fields = ["name", "address", "postal_code", "city", "phone"]
    initial = model_to_dict(site, fields=fields) if site else {}
    form = SiteForm(request.POST if request.method == "POST" else None, initial=initial)

    def save(data: dict[str, Any]) -> object:
        return services.site_save(actor=request.actor, site_id=site_id, **data)

    done = _("The site is saved.")
    context = {"site": site, "sites": selectors.sites()}
    return _edit(
        request, form, save, done, "agenda:settings-sites", "agenda/settings/sites.html", context
    )


@practice_view
@require_http_methods(GET_POST)
def type_edit(request: PracticeRequest, type_id: int | None = None) -> HttpResponse:
    _require(request, PracticeAction.MANAGE_AGENDA, f"type:{type_id or 'new'}")
    kind = AppointmentType.objects.filter(pk=type_id).first() if type_id else None
    if type_id and kind is None:
        raise Http404(_("No such type of appointment in this practice."))
    fields = ["name", "minutes", "is_home_visit", "is_active"]
    initial = model_to_dict(kind, fields=fields) if kind else {"is_active": True}
    form = TypeForm(request.POST if request.method == "POST" else None, initial=initial)

    def save(data: dict[str, Any]) -> object:
        return services.type_save(actor=request.actor, type_id=type_id, **data)

    done = _("The type of appointment is saved.")
    context = {"kind": kind, "types": selectors.appointment_types(active_only=False)}
    return _edit(
        request, form, save, done, "agenda:settings-types", "agenda/settings/types.html", context
    )


# --- a practitioner's week and one day's exception --------------------------------------


@practice_view
@require_http_methods(GET_POST)
def week_hours(request: PracticeRequest, practitioner_id: int) -> HttpResponse:
    person = _practitioner(request, practitioner_id)
    initial, rows = WeekForm.initial_from(selectors.hours_of(person.pk))
    post = request.POST if request.method == "POST" else None
    form = WeekForm(post, initial=initial, sites=_sites(), rows=rows)
    if post is not None and form.is_valid():
        spans = form.spans()
        if form.is_valid():  # a half-filled row adds its error while spans are read
            try:
                services.hours_set(actor=request.actor, practitioner_id=person.pk, spans=spans)
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("The opening hours are saved."))
                return redirect("agenda:settings-hours", request.practice.slug, person.pk)
    return render(
        request,
        "agenda/settings/week.html",
        {
            "form": form,
            "person": person,
            "days": list(zip(Weekday.labels, form.grid(), strict=True)),
        },
        status=400 if post is not None else 200,
    )


@practice_view
@require_http_methods(GET_POST)
def day_hours(request: PracticeRequest, practitioner_id: int) -> HttpResponse:
    person = _practitioner(request, practitioner_id)
    post = request.POST if request.method == "POST" else None
    form = DayForm(post, initial={"day": request.GET.get("jour")}, sites=_sites(), rows=3)
    if post is not None and form.is_valid():
        spans = form.spans()
        if form.is_valid():
            try:
                services.day_hours_set(
                    actor=request.actor,
                    practitioner_id=person.pk,
                    day=form.cleaned_data["day"],
                    spans=spans,
                )
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, _("The hours of that day are saved."))
                return redirect("agenda:settings-hours", request.practice.slug, person.pk)
    return render(
        request,
        "agenda/settings/day.html",
        {
            "form": form,
            "person": person,
            "rows": form.grid()[0][1],
            "exceptions": selectors.day_hours_of(person.pk, timezone.localdate()),
        },
        status=400 if post is not None else 200,
    )


# --- absences, closures and holidays ----------------------------------------------------


def _absence_choices(request: PracticeRequest) -> list[tuple[str, str]]:
    choices = [(str(p.pk), p.full_name) for p in _managed_practitioners(request)]
    if _may(request, PracticeAction.MANAGE_AGENDA):
        choices.insert(0, (AbsenceForm.CLOSURE, _("The whole practice is closed")))
    return choices


def _absences(request: PracticeRequest) -> list[Absence]:
    if _may(request, PracticeAction.MANAGE_AGENDA):
        return selectors.absences_from(timezone.localdate())
    return selectors.absences_from(timezone.localdate(), practitioner_id=request.actor.person_id)


@practice_view
@require_http_methods(GET_POST)
def absences(request: PracticeRequest) -> HttpResponse:
    """Absences and closures to come; adding one lists the appointments already booked
    then, so that the desk calls the patients (nothing is cancelled behind anyone)."""
    actor = request.actor
    _require(request, PracticeAction.MANAGE_SCHEDULE, "agenda:absences", actor.person_id)
    post = request.POST if request.method == "POST" else None
    form = AbsenceForm(post, choices=_absence_choices(request))
    to_call: list[Any] = []
    added = None
    if post is not None and form.is_valid():
        try:
            added, booked = services.absence_add(
                actor=actor,
                practitioner_id=form.practitioner_id(),
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
                label=form.cleaned_data["label"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            to_call = rows_by_ids(actor, [a.pk for a in booked], target="agenda:absence")
            if not to_call:
                messages.success(request, _("The absence is saved."))
                return redirect("agenda:settings-absences", request.practice.slug)
            form = AbsenceForm(choices=_absence_choices(request))
    return render(
        request,
        "agenda/settings/absences.html",
        {
            "form": form,
            "added": added,
            "to_call": to_call,
            "absences": _absences(request),
            "holidays": HolidaysForm() if _may(request, PracticeAction.MANAGE_AGENDA) else None,
        },
        status=400 if post is not None and added is None else 200,
    )


@practice_view
@require_POST
def absence_remove(request: PracticeRequest, absence_id: int) -> HttpResponse:
    absence = Absence.objects.filter(pk=absence_id).select_related("practitioner").first()
    if absence is None:
        raise Http404(_("No such absence."))
    if absence.practitioner_id is None:
        _require(request, PracticeAction.MANAGE_AGENDA, "agenda:closure")
    else:
        _require(
            request,
            PracticeAction.MANAGE_SCHEDULE,
            f"person:{absence.practitioner_id}",
            absence.practitioner_id,
        )
    form = ConfirmForm(request.POST)
    if form.is_valid() and form.cleaned_data["confirmed"]:
        services.absence_remove(actor=request.actor, absence_id=absence.pk)
        messages.success(request, _("The absence is removed: its times are open again."))
        return redirect("agenda:settings-absences", request.practice.slug)
    return render(request, "agenda/settings/absence_remove.html", {"absence": absence})


@practice_view
@require_POST
def holidays(request: PracticeRequest) -> HttpResponse:
    _require(request, PracticeAction.MANAGE_AGENDA, "agenda:closure")
    form = HolidaysForm(request.POST)
    if form.is_valid():
        try:
            added = services.holidays_add(actor=request.actor, year=form.cleaned_data["year"])
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request,
                _("%(n)s public holidays of %(year)s added (those already there are kept).")
                % {"n": added, "year": form.cleaned_data["year"]},
            )
            return redirect("agenda:settings-absences", request.practice.slug)
    return render(
        request,
        "agenda/settings/absences.html",
        {
            "form": AbsenceForm(choices=_absence_choices(request)),
            "absences": _absences(request),
            "holidays": form,
        },
        status=400,
    )


# --- the practitioner's calendar feed ---------------------------------------------------


def feed_address(request: PracticeRequest, token: str) -> str:
    """The secret address a calendar program subscribes to (served by the feed view,
    named ``agenda-feed`` in the root URL configuration)."""
    return request.build_absolute_uri(reverse("agenda-feed", args=[token]))


def _feeds(request: PracticeRequest) -> list[CalendarFeed]:
    return list(
        CalendarFeed.objects.filter(
            practitioner_id=request.actor.person_id, revoked_at__isnull=True
        ).order_by("-created_at")
    )


@practice_view
@never_cache
@require_http_methods(GET_POST)
def feed(request: PracticeRequest) -> HttpResponse:
    """Create a feed (its address is shown once, here, never again) or see the live ones."""
    actor = request.actor
    _require(request, PracticeAction.MANAGE_OWN_FEED, f"person:{actor.person_id}", actor.person_id)
    post = request.POST if request.method == "POST" else None
    form = FeedForm(post)
    address = ""
    if post is not None and form.is_valid():
        _made, token = services.feed_create(actor=actor, with_names=form.cleaned_data["with_names"])
        address = feed_address(request, token)
        form = FeedForm()
    return render(
        request,
        "agenda/settings/feed.html",
        {"form": form, "address": address, "feeds": _feeds(request)},
        status=400 if post is not None and not address else 200,
    )


@practice_view
@require_POST
def feed_revoke(request: PracticeRequest) -> HttpResponse:
    actor = request.actor
    _require(request, PracticeAction.MANAGE_OWN_FEED, f"person:{actor.person_id}", actor.person_id)
    form = RevokeFeedForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "agenda/settings/feed.html",
            {"form": FeedForm(), "feeds": _feeds(request), "revoke_error": True},
            status=400,
        )
    chosen = next((f for f in _feeds(request) if f.pk == form.cleaned_data["feed"]), None)
    if chosen is None:
        raise Http404(_("No such calendar feed."))
    if not form.cleaned_data["confirmed"]:
        return render(request, "agenda/settings/feed_revoke.html", {"feed": chosen})
    services.feed_revoke(actor=actor, feed_id=chosen.pk)
    messages.success(request, _("The calendar feed is revoked: its address no longer answers."))
    return redirect("agenda:feed", request.practice.slug)
