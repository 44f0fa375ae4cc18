"""The agenda of practice A: one site, the usual types, Alice and Bob open Monday to
Friday 8:00-12:00 and 14:00-19:00 and Saturday morning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from agenda.models import Appointment, AppointmentType, OpeningHours, Site, Status
from agenda.selectors.slots import local_zone
from core import tenancy
from tests.factories import PatientFactory
from tests.fixtures import World


@dataclass
class Agenda:
    site: Site
    consultation: AppointmentType
    long: AppointmentType
    home_visit: AppointmentType
    nurse_round: AppointmentType


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    """A day of the coming weeks (never today: tests stay clear of 'the past')."""
    today = datetime.now(tz=local_zone()).date()
    days = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=days + 7 * (weeks_ahead - 1))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=local_zone())


@pytest.fixture
def agenda(world: World) -> Agenda:
    practice = world.practice_a
    tenancy.activate(practice.pk)
    site = Site.objects.create(
        practice=practice,
        name="Cabinet",
        address="3 rue des Lilas",
        postal_code="69003",
        city="Lyon",
        phone="04 78 00 00 00",
    )

    def kind(name: str, minutes: int, home: bool = False) -> AppointmentType:
        return AppointmentType.objects.create(
            practice=practice, name=name, minutes=minutes, is_home_visit=home
        )

    made = Agenda(
        site=site,
        consultation=kind("Consultation", 20),
        long=kind("Consultation longue", 40),
        home_visit=kind("Visite à domicile", 30, home=True),
        nurse_round=kind("Tournée infirmière", 30),
    )
    for person in (world.alice, world.bob):
        for weekday in range(5):
            for starts, ends in ((time(8), time(12)), (time(14), time(19))):
                OpeningHours.objects.create(
                    practice=practice,
                    practitioner=person,
                    site=site,
                    weekday=weekday,
                    starts=starts,
                    ends=ends,
                )
        OpeningHours.objects.create(
            practice=practice,
            practitioner=person,
            site=site,
            weekday=5,
            starts=time(8),
            ends=time(12),
        )
    tenancy.activate(None)
    return made


def book_in_a_row(
    world: World,
    agenda: Agenda,
    first: datetime,
    count: int,
    minutes: int,
    *,
    waiting_every: int = 0,
    reason: str = "",
    **patient: object,
) -> None:
    """``count`` consultations of Alice's, one after the other from ``first``, each with a
    new patient of hers; every ``waiting_every``-th patient has arrived and is waiting."""
    tenancy.activate(world.practice_a.pk)
    for index in range(count):
        waiting = bool(waiting_every) and index % waiting_every == 0
        starts = first + timedelta(minutes=minutes * index)
        Appointment.objects.create(
            practice=world.practice_a,
            practitioner=world.alice,
            patient=PatientFactory(practice=world.practice_a, gp=world.alice, **patient),
            type=agenda.consultation,
            site=agenda.site,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            created_by=world.sam,
            status=Status.ARRIVED if waiting else Status.BOOKED,
            arrived_at=timezone.now() if waiting else None,
            reason=reason,
        )
    tenancy.activate(None)
