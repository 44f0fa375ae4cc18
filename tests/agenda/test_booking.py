"""Booking at the desk: the rules, the errors, moves, cancellations, series, absences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from agenda import selectors, services
from agenda.models import Appointment, Status
from agenda.selectors.slots import local_zone
from agenda.services import Booking
from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from tests.agenda.conftest import Agenda, at, next_weekday
from tests.fixtures import World


def booking(world: World, agenda: Agenda, when, **more) -> Booking:  # type: ignore[no-untyped-def]
    values = {
        "practitioner_id": world.alice.pk,
        "type_id": agenda.consultation.pk,
        "starts_at": when,
        "patient_id": world.paul.pk,
        "channel": "phone",
    }
    values.update(more)
    return Booking(**values)


def test_the_secretary_books_a_phone_appointment_and_it_is_audited(world, agenda):
    sam = world.actor(world.sam)
    when = at(next_weekday(0), 9)
    made = services.appointment_book(actor=sam, booking=booking(world, agenda, when))
    assert made.ends_at - made.starts_at == timedelta(minutes=20)
    assert made.site_id == agenda.site.pk
    event = AuditEvent.objects.get(action="appointment.book")
    assert event.patient_id == world.paul.pk and event.actor_id == world.sam.pk


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"starts_at": "past"}, "starts_at", "past"),
        ({"starts_at": "sunday"}, "starts_at", "outside_hours"),
        ({"minutes": 0}, "minutes", "length"),
        ({"minutes": -10}, "minutes", "length"),
        ({"practitioner_id": "sam"}, "practitioner", "unknown_practitioner"),
        ({"practitioner_id": "charlie"}, "practitioner", "unknown_practitioner"),
        ({"type_id": 999999}, "type", "unknown_type"),
        ({"patient_id": None}, "patient", "who"),
    ],
)
def test_bad_bookings_are_refused_clearly_in_both_languages_and_store_nothing(
    world, agenda, change, field, code
):
    sam = world.actor(world.sam)
    values = dict(change)
    if values.get("starts_at") == "past":
        values["starts_at"] = timezone.now() - timedelta(days=1)
    if values.get("starts_at") == "sunday":
        values["starts_at"] = at(next_weekday(6), 10)
    if values.get("practitioner_id") in ("sam", "charlie"):
        values["practitioner_id"] = getattr(world, values["practitioner_id"]).pk
    messages = {}
    for language in ("fr", "en"):
        with translation.override(language), pytest.raises(ValidationError) as raised:
            services.appointment_book(
                actor=sam, booking=booking(world, agenda, at(next_weekday(0), 9), **values)
            )
        assert field in raised.value.message_dict
        assert raised.value.error_dict[field][0].code == code
        messages[language] = raised.value.message_dict[field][0]
    assert messages["fr"] != messages["en"]
    assert not Appointment.objects.exists()


def test_outside_the_hours_with_an_explicit_override_is_booked(world, agenda):
    sam = world.actor(world.sam)
    made = services.appointment_book(
        actor=sam,
        booking=booking(world, agenda, at(next_weekday(0), 20), override_hours=True),
    )
    assert made.outside_hours


def test_a_taken_slot_gets_a_clear_answer_with_the_next_free_times(world, agenda):
    sam = world.actor(world.sam)
    when = at(next_weekday(0), 9)
    services.appointment_book(actor=sam, booking=booking(world, agenda, when))
    with pytest.raises(services.SlotTaken) as raised:
        services.appointment_book(
            actor=sam, booking=booking(world, agenda, when + timedelta(minutes=10))
        )
    assert raised.value.next_slots
    assert all(
        slot.starts >= when + timedelta(minutes=20) or slot.ends <= when
        for slot in raised.value.next_slots
    )
    assert Appointment.objects.count() == 1
    # Another practitioner is free at the same time.
    services.appointment_book(
        actor=sam, booking=booking(world, agenda, when, practitioner_id=world.bob.pk)
    )


def test_free_slots_skip_appointments_absences_and_holidays(world, agenda):
    sam = world.actor(world.sam)
    monday = next_weekday(0)
    services.appointment_book(actor=sam, booking=booking(world, agenda, at(monday, 8)))
    slots = selectors.free_slots([world.alice.pk], 20, after=at(monday, 7), limit=3)
    assert [s.starts for s in slots] == [at(monday, 8, 20), at(monday, 8, 40), at(monday, 9)]
    services.absence_add(
        actor=sam,
        practitioner_id=world.alice.pk,
        starts_at=at(monday, 0),
        ends_at=at(monday + timedelta(days=1), 0),
        label="Formation",
    )
    slots = selectors.free_slots([world.alice.pk], 20, after=at(monday, 7), limit=1)
    assert slots[0].starts == at(monday + timedelta(days=1), 8)
    with pytest.raises(ValidationError) as raised:
        services.appointment_book(actor=sam, booking=booking(world, agenda, at(monday, 10)))
    assert raised.value.error_dict["starts_at"][0].code == "absent"
    # A practice-wide closure (a public holiday) closes everyone.
    tuesday = monday + timedelta(days=1)
    services.absence_add(
        actor=sam,
        practitioner_id=None,
        starts_at=at(tuesday, 0),
        ends_at=at(tuesday + timedelta(days=1), 0),
        label="Fermé",
    )
    slots = selectors.free_slots([world.alice.pk, world.bob.pk], 20, after=at(tuesday, 7), limit=1)
    assert slots[0].starts.date() > tuesday


def test_public_holidays_are_added_once_and_close_the_practice(world, agenda):
    sam = world.actor(world.sam)
    assert services.holidays_add(actor=sam, year=2027) == 11
    assert services.holidays_add(actor=sam, year=2027) == 0
    # Easter Monday 2027 is 29 March.
    from datetime import date, time

    from agenda.selectors.slots import at as at_time

    slots = selectors.free_slots(
        [world.alice.pk], 20, after=at_time(date(2027, 3, 29), time(7)), limit=1
    )
    assert slots[0].starts.date() == date(2027, 3, 30)


def test_a_series_with_one_occurrence_moved_and_one_cancelled(world, agenda):
    sam = world.actor(world.sam)
    monday = next_weekday(0)
    series = services.series_book(
        actor=sam,
        booking=booking(world, agenda, at(monday, 8), type_id=agenda.nurse_round.pk),
        every_weeks=1,
        count=8,
    )
    occurrences = list(Appointment.objects.filter(series=series).order_by("starts_at"))
    assert len(occurrences) == 8
    assert all(o.starts_at.astimezone(local_zone()).hour == 8 for o in occurrences)
    assert {o.starts_at.astimezone(local_zone()).weekday() for o in occurrences} == {0}
    moved = services.appointment_move(
        actor=sam,
        appointment_id=occurrences[2].pk,
        starts_at=at(monday + timedelta(weeks=2, days=1), 9),
    )
    services.appointment_cancel(
        actor=sam, appointment_id=occurrences[4].pk, reason="Patient hospitalisé"
    )
    after = {o.pk: o for o in Appointment.objects.filter(series=series)}
    assert after[moved.pk].starts_at == at(monday + timedelta(weeks=2, days=1), 9)
    assert after[occurrences[4].pk].status == Status.CANCELLED
    for index in (0, 1, 3, 5, 6, 7):
        same = after[occurrences[index].pk]
        assert same.starts_at == occurrences[index].starts_at and same.status == Status.BOOKED


def test_a_series_that_meets_a_taken_date_stores_nothing(world, agenda):
    sam = world.actor(world.sam)
    monday = next_weekday(0)
    services.appointment_book(
        actor=sam, booking=booking(world, agenda, at(monday + timedelta(weeks=3), 8))
    )
    with pytest.raises(ValidationError) as raised:
        services.series_book(
            actor=sam, booking=booking(world, agenda, at(monday, 8)), every_weeks=1, count=8
        )
    assert raised.value.error_dict["starts_at"][0].code == "series_date"
    assert Appointment.objects.count() == 1


def test_an_overlapping_move_is_refused_and_nothing_changes(world, agenda):
    sam = world.actor(world.sam)
    monday = next_weekday(0)
    first = services.appointment_book(actor=sam, booking=booking(world, agenda, at(monday, 9)))
    second = services.appointment_book(actor=sam, booking=booking(world, agenda, at(monday, 10)))
    with pytest.raises(services.SlotTaken):
        services.appointment_move(actor=sam, appointment_id=second.pk, starts_at=at(monday, 9, 10))
    second.refresh_from_db()
    assert second.starts_at == at(monday, 10)
    assert first.pk != second.pk


def test_cancelling_needs_a_reason_and_frees_the_slot(world, agenda):
    sam = world.actor(world.sam)
    when = at(next_weekday(0), 9)
    made = services.appointment_book(actor=sam, booking=booking(world, agenda, when))
    with pytest.raises(ValidationError):
        services.appointment_cancel(actor=sam, appointment_id=made.pk, reason="  ")
    services.appointment_cancel(actor=sam, appointment_id=made.pk, reason="A téléphoné")
    services.appointment_book(actor=sam, booking=booking(world, agenda, when))


def test_a_patient_cannot_be_booked_with_a_practitioner_they_excluded(world, agenda):
    from core import tenancy
    from core.access.models import Restriction

    tenancy.activate(world.practice_a.pk)
    Restriction.objects.create(
        practice=world.practice_a,
        patient_id=world.paul.pk,
        person=world.bob,
        recorded_by=world.alice,
        reason="choix du patient",
    )
    sam = world.actor(world.sam)
    with pytest.raises(ValidationError) as raised:
        services.appointment_book(
            actor=sam,
            booking=booking(world, agenda, at(next_weekday(0), 9), practitioner_id=world.bob.pk),
        )
    assert raised.value.error_dict["practitioner"][0].code == "excluded"


def test_another_practice_cannot_book_for_a_patient_it_does_not_hold(world, agenda):
    charlie = world.actor(world.charlie, world.practice_b)
    with pytest.raises(ValidationError):
        services.appointment_book(
            actor=charlie,
            booking=booking(
                world, agenda, at(next_weekday(0), 9), practitioner_id=world.charlie.pk
            ),
        )
    assert not Appointment.objects.exists()


def test_a_caller_not_registered_is_booked_by_name_and_registered_on_arrival(world, agenda):
    sam = world.actor(world.sam)
    made = services.appointment_book(
        actor=sam,
        booking=booking(
            world,
            agenda,
            at(next_weekday(0), 9),
            patient_id=None,
            caller_name="Mme Lefèvre",
            caller_phone="06 12 34 56 78",
        ),
    )
    with pytest.raises(ValidationError):
        services.check_in(actor=sam, appointment_id=made.pk)
    services.check_in(actor=sam, appointment_id=made.pk, patient_id=world.paul.pk)
    made.refresh_from_db()
    assert made.patient_id == world.paul.pk and made.status == Status.ARRIVED


def test_the_schedule_is_the_desks_and_the_practitioners_own(world, agenda):
    from datetime import time

    from agenda.services.schedule import HoursSpan

    alice, bob = world.actor(world.alice), world.actor(world.bob)
    spans = [HoursSpan(0, agenda.site.pk, time(9), time(12))]
    services.hours_set(actor=alice, practitioner_id=world.alice.pk, spans=spans)
    with pytest.raises(AccessDenied):
        services.hours_set(actor=bob, practitioner_id=world.alice.pk, spans=spans)
    with pytest.raises(AccessDenied):
        services.type_save(actor=bob, name="Vaccination", minutes=10)
    services.type_save(actor=world.actor(world.sam), name="Vaccination", minutes=10)
