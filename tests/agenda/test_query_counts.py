"""The hot reads of the agenda cost the same whatever the day holds: today's list and
the booking search run a fixed number of queries for 2 or 30 appointments."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda import selectors
from agenda.models import DayHours
from core import tenancy
from core.audit import services as audit
from tests.agenda.conftest import at, book_in_a_row, next_weekday
from tests.fixtures import PASSWORD, enroll, totp_code


def fill(world, agenda, day, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` appointments of Alice's on ``day``, open all day; a third waiting, half
    with a reason."""
    tenancy.activate(world.practice_a.pk)
    DayHours.objects.create(
        practice=world.practice_a,
        practitioner=world.alice,
        site=agenda.site,
        day=day,
        starts=time(0),
        ends=time(23, 59),
    )
    half = count // 2
    book_in_a_row(world, agenda, at(day, 7), half, 20, waiting_every=3, reason="Toux")
    book_in_a_row(
        world, agenda, at(day, 7) + timedelta(minutes=20 * half), count - half, 20, waiting_every=3
    )


def count_queries(read) -> int:  # type: ignore[no-untyped-def]
    """As in a request: the audit events are buffered, then appended in one go."""
    with CaptureQueriesContext(connection) as captured:
        with audit.buffered() as events:
            read()
        audit.append(events)
    return len(captured.captured_queries)


def test_today_costs_the_same_for_2_and_30_appointments(world, agenda):
    small_day, big_day = next_weekday(0), next_weekday(1)
    fill(world, agenda, small_day, 2)
    fill(world, agenda, big_day, 30)
    alice = world.actor(world.alice)
    small = count_queries(lambda: selectors.today_for(alice, world.alice.pk, small_day))
    big = count_queries(lambda: selectors.today_for(alice, world.alice.pk, big_day))
    # The appointments; their patients and the policy's facts (one round trip); the
    # audit (one call).
    assert small == big == 3
    today = selectors.today_for(alice, world.alice.pk, big_day)
    assert len(today.appointments) == 30


def test_free_slots_cost_the_same_for_2_and_30_appointments(world, agenda):
    small_day, big_day = next_weekday(0), next_weekday(1)
    fill(world, agenda, small_day, 2)
    fill(world, agenda, big_day, 30)
    tenancy.activate_then(world.practice_a.pk, world.sam.pk)
    small = count_queries(
        lambda: selectors.free_slots([world.alice.pk], 20, after=at(small_day, 6), days=0)
    )
    big = count_queries(
        lambda: selectors.free_slots([world.alice.pk], 20, after=at(big_day, 6), days=0)
    )
    assert small == big == 4


def add_today(world, agenda, count: int, first_minute: int = 0) -> None:  # type: ignore[no-untyped-def]
    """``count`` more of Alice's appointments today, a third of the patients waiting."""
    first = at(timezone.localdate(), 0) + timedelta(minutes=first_minute)
    book_in_a_row(world, agenda, first, count, 1, waiting_every=3)


def test_todays_list_page_costs_the_same_for_2_and_30_appointments(world, agenda):
    """The whole request, as the practitioner's browser sends it: the session with its
    person and their second-factor devices; the transaction with the person set; the practice
    entered by its address, with the roles (whether a practitioner: the home's kind); the
    appointments; their patients with the policy's facts; the audit; the commit."""
    web = Client()
    device = enroll(world.alice)
    web.post("/connexion/", {"username": "alice", "password": PASSWORD})
    web.post("/connexion/code/", {"code": totp_code(device)})
    path = f"/p/{world.practice_a.slug}/aujourdhui/"

    def page() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = web.get(path)
        assert response.status_code == 200
        return len(captured.captured_queries), response.content.count(b"<tr")

    add_today(world, agenda, 2)
    small, small_rows = page()
    add_today(world, agenda, 28, first_minute=10)
    big, big_rows = page()
    assert big_rows >= small_rows + 28  # (a waiting patient is also in the day)
    # + the test's savepoint and its release (the test runs in a transaction)
    assert small == big == 7
