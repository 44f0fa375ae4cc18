"""A practitioner's agenda as an iCalendar feed, for a calendar program that cannot log
in: the secret in the address is the key (``/agenda/ical/<token>.ics``).

No patient name and no reason unless the practitioner opted in for this feed; then the
names are read through the selectors as the practitioner (judged by the policy, a
patient who excluded them stays a busy time, each patient audited ``appointment.read``)
and a reason appears only when the practitioner may read it. An unknown, altered or
revoked token, or the feed of someone who no longer practises here, all get the same
404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from agenda import selectors, services
from agenda.models import CalendarFeed
from agenda.selectors.appointments import day_bounds
from core import tenancy
from core.accounts.selectors import actor_for, is_practitioner_of
from core.practices.models import Practice

DAYS_BACK = 30
DAYS_AHEAD = 180


def _events_without_names(feed: CalendarFeed, start: datetime, end: datetime) -> list[Event]:
    events = []
    for appointment in selectors.busy_times(feed.practitioner_id, start, end):
        assert appointment.starts_at is not None and appointment.ends_at is not None
        events.append(
            _event(
                appointment.pk,
                appointment.starts_at,
                appointment.ends_at,
                summary=appointment.type.name or _("Appointment"),
                location=appointment.site.name if appointment.site else "",
            )
        )
    return events


def _events_with_names(feed: CalendarFeed, practice: Practice, first: datetime) -> list[Event]:
    actor = actor_for(feed.practitioner, practice.pk)
    rows = selectors.practitioner_days(
        actor, feed.practitioner_id, first.date(), DAYS_BACK + DAYS_AHEAD
    )
    events = []
    for row in rows:
        if row.starts_at is None or row.ends_at is None:
            continue
        summary = f"{row.name} — {row.type_name}" if row.name and not row.hidden else row.type_name
        events.append(
            _event(
                row.id,
                row.starts_at,
                row.ends_at,
                summary=summary,
                location=row.site_name,
                description=row.reason,  # already empty when the practitioner may not read it
            )
        )
    return events


def _event(
    appointment_id: int,
    starts: datetime,
    ends: datetime,
    *,
    summary: str,
    location: str,
    description: str = "",
) -> Event:
    event = Event()
    # Stable per appointment: a calendar program updates a moved appointment in place.
    event.add("uid", f"appointment-{appointment_id}@carnet")
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", starts.astimezone(UTC))
    event.add("dtend", ends.astimezone(UTC))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    return event


def _not_found() -> HttpResponse:
    """One answer for every wrong case: it tells nothing about which part was wrong."""
    return HttpResponseNotFound(
        _("No calendar at this address."), content_type="text/plain; charset=utf-8"
    )


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = selectors.feed_for_token(token)
    if feed is None:
        return _not_found()
    # The feed was found without a practice (its table is outside row-level security);
    # from here on the request works in the feed's practice, as its practitioner.
    tenancy.activate(feed.practice_id, feed.practitioner_id)
    practice = Practice.objects.filter(pk=feed.practice_id, is_active=True).first()
    if practice is None or not is_practitioner_of(feed.practitioner_id, practice.pk):
        return _not_found()
    tenancy.activate_then(practice.pk, feed.practitioner_id, care_team_mode=practice.care_team_mode)
    today = timezone.localdate()
    start, _end = day_bounds(today - timedelta(days=DAYS_BACK))
    end, _next = day_bounds(today + timedelta(days=DAYS_AHEAD))
    if feed.with_names:
        events = _events_with_names(feed, practice, start)
    else:
        events = _events_without_names(feed, start, end)
    services.feed_fetched(feed=feed, with_names=feed.with_names)

    calendar = Calendar()
    calendar.add("prodid", "-//Carnet//Agenda//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{practice.name} — {feed.practitioner.full_name}")
    for event in events:
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    return response
