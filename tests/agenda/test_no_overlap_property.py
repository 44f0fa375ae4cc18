"""Whatever the desk does — random bookings, moves and cancellations, with and without
the opening-hours override — the database never holds two overlapping appointments of
one practitioner. The check here reads the stored rows, independent of the constraint."""

from __future__ import annotations

from datetime import timedelta
from itertools import combinations

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import services
from agenda.models import HOLDING, Appointment, Channel
from agenda.services import Booking
from core import tenancy
from tests.agenda.conftest import at, next_weekday

book_op = st.tuples(
    st.just("book"),
    st.sampled_from(["alice", "bob"]),
    st.integers(0, 1),  # day
    st.integers(0, 30),  # start, in 5-minute steps from 9:00
    st.sampled_from([5, 10, 20, 40]),  # length
    st.booleans(),  # override hours
)
move_op = st.tuples(
    st.just("move"), st.integers(0, 30), st.integers(0, 1), st.integers(0, 30), st.booleans()
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 30))
operations = st.lists(st.one_of(book_op, move_op, cancel_op), min_size=1, max_size=14)


def overlapping_pairs() -> list[tuple[int, int]]:
    held = list(
        Appointment.objects.filter(status__in=HOLDING, starts_at__isnull=False)
        .exclude(channel=Channel.WALK_IN)
        .values_list("pk", "practitioner_id", "starts_at", "ends_at")
    )
    return [
        (a[0], b[0])
        for a, b in combinations(held, 2)
        if a[1] == b[1] and a[2] < b[3] and b[2] < a[3]
    ]


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_no_two_stored_appointments_of_a_practitioner_overlap(world, agenda, ops) -> None:
    sam = world.actor(world.sam)
    Appointment.objects.all().delete()
    monday = next_weekday(0)
    made: list[int] = []
    refused = 0
    for op in ops:
        try:
            if op[0] == "book":
                _kind, who, day, step, minutes, override = op
                appointment = services.appointment_book(
                    actor=sam,
                    booking=Booking(
                        practitioner_id=getattr(world, who).pk,
                        type_id=agenda.consultation.pk,
                        starts_at=at(monday + timedelta(days=day), 9) + timedelta(minutes=5 * step),
                        patient_id=world.paul.pk,
                        minutes=minutes,
                        override_hours=override,
                    ),
                )
                made.append(appointment.pk)
            elif op[0] == "move" and made:
                _kind, index, day, step, override = op
                services.appointment_move(
                    actor=sam,
                    appointment_id=made[index % len(made)],
                    starts_at=at(monday + timedelta(days=day), 9) + timedelta(minutes=5 * step),
                    override_hours=override,
                )
            elif op[0] == "cancel" and made:
                services.appointment_cancel(
                    actor=sam, appointment_id=made[op[1] % len(made)], reason="test"
                )
        except ValidationError:
            refused += 1  # a taken time, an appointment already cancelled: refused cleanly
        tenancy.activate_then(world.practice_a.pk, world.sam.pk)
        assert overlapping_pairs() == []
