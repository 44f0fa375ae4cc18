"""The practitioner's iCalendar feed: no patient name or reason unless opted in, stable
events, audited, and a plain 404 once revoked or for any wrong token."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.test import Client
from icalendar import Calendar

from agenda import services
from agenda.services import Booking
from core import tenancy
from core.access.models import Restriction
from core.accounts.models import Membership
from core.audit.models import AuditEvent
from tests.agenda.conftest import Agenda, at, next_weekday
from tests.fixtures import World

REASON = "douleur thoracique depuis hier"


def _book(world: World, agenda: Agenda, practitioner, hour: int) -> int:  # type: ignore[no-untyped-def]
    made = services.appointment_book(
        actor=world.actor(world.sam),
        booking=Booking(
            practitioner_id=practitioner.pk,
            type_id=agenda.consultation.pk,
            starts_at=at(next_weekday(0), hour),
            patient_id=world.paul.pk,
            reason=REASON,
        ),
    )
    tenancy.activate(None)
    return made.pk


def _feed(world: World, person, *, with_names: bool = False) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    feed, token = services.feed_create(actor=world.actor(person), with_names=with_names)
    tenancy.activate(None)
    return feed.pk, token


def _fetch(token: str):  # type: ignore[no-untyped-def]
    return Client().get(f"/agenda/ical/{token}.ics")


def test_the_feed_parses_and_holds_no_patient_name_or_reason_by_default(
    world: World, agenda: Agenda
) -> None:
    appointment = _book(world, agenda, world.alice, 9)
    _id, token = _feed(world, world.alice)
    response = _fetch(token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    raw = response.content
    for secret in (b"dupont", b"paul", REASON.encode(), b"douleur"):
        assert secret not in raw.lower()
    events = Calendar.from_ical(raw).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert str(event["SUMMARY"]) == "Consultation"
    assert str(event["LOCATION"]) == "Cabinet"
    assert "DESCRIPTION" not in event
    assert str(event["UID"]) == f"appointment-{appointment}@carnet"
    starts = event.decoded("DTSTART")
    assert starts.tzinfo is not None and starts.utcoffset() == timedelta(0)
    assert starts == at(next_weekday(0), 9).astimezone(UTC)
    assert b"DTSTART:" in raw and b"Z\r\n" in raw  # UTC, written as such
    # The same event on the next fetch: a calendar program updates it in place.
    again = Calendar.from_ical(_fetch(token).content).walk("VEVENT")
    assert str(again[0]["UID"]) == str(event["UID"])
    fetched = AuditEvent.objects.filter(action="agenda.feed_read", actor_id=world.alice.pk)
    assert fetched.count() == 2
    assert not AuditEvent.objects.filter(action="appointment.read").exists()


def test_with_the_opt_in_the_feed_names_the_patient_and_audits_the_read(
    world: World, agenda: Agenda
) -> None:
    _book(world, agenda, world.alice, 9)
    _id, token = _feed(world, world.alice, with_names=True)
    raw = _fetch(token).content
    event = Calendar.from_ical(raw).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "DUPONT Paul — Consultation"
    # Alice, Paul's GP, may read the reason: it is in the description.
    assert str(event["DESCRIPTION"]) == REASON
    read = AuditEvent.objects.get(action="appointment.read")
    assert (read.actor_id, read.patient_id) == (world.alice.pk, world.paul.pk)


def test_a_patient_who_excluded_the_practitioner_is_a_busy_time_even_with_names(
    world: World, agenda: Agenda
) -> None:
    _book(world, agenda, world.bob, 9)
    tenancy.activate(world.practice_a.pk)
    Restriction.objects.create(
        practice=world.practice_a,
        patient_id=world.paul.pk,
        person=world.bob,
        source="formulaire",
        recorded_by=world.sam,
    )
    tenancy.activate(None)
    _id, token = _feed(world, world.bob, with_names=True)
    raw = _fetch(token).content
    assert b"dupont" not in raw.lower() and REASON.encode() not in raw
    assert str(Calendar.from_ical(raw).walk("VEVENT")[0]["SUMMARY"]) == "Occupé"
    assert len(Calendar.from_ical(raw).walk("VEVENT")) == 1


def test_the_feed_stops_answering_once_revoked(world: World, agenda: Agenda) -> None:
    _book(world, agenda, world.alice, 9)
    feed_id, token = _feed(world, world.alice)
    assert _fetch(token).status_code == 200
    services.feed_revoke(actor=world.actor(world.alice), feed_id=feed_id)
    tenancy.activate(None)
    assert _fetch(token).status_code == 404


def test_the_feed_of_a_deactivated_practitioner_stops_answering(
    world: World, agenda: Agenda
) -> None:
    _id, token = _feed(world, world.alice)
    assert _fetch(token).status_code == 200
    tenancy.activate(world.practice_a.pk)
    Membership.objects.filter(person=world.alice, practice=world.practice_a).update(is_active=False)
    tenancy.activate(None)
    assert _fetch(token).status_code == 404


def test_a_wrong_token_is_a_404_that_does_not_say_which_part_was_wrong(
    world: World, agenda: Agenda
) -> None:
    _id, token = _feed(world, world.alice)
    key, secret = token.split(".", 1)
    wrong = [
        f"{key}.{'x' * len(secret)}",  # the right key, a wrong secret
        f"{'0' * len(key)}.{secret}",  # an unknown key, the right secret
        "garbage",
        f"{key}.",
        f"{token}{'a' * 200}",
    ]
    answers = [_fetch(candidate) for candidate in wrong]
    assert {answer.status_code for answer in answers} == {404}
    assert len({(answer.content, answer["Content-Type"]) for answer in answers}) == 1
    assert not AuditEvent.objects.filter(action="agenda.feed_read").exists()
