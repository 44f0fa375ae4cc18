"""Run by test_concurrency.py in its own process, against its own database: N processes
(each its own connection) book the same slot of the same practitioner at the same
instant. Prints JSON: what each caller was answered, and what the database holds."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carnet.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections, transaction  # noqa: E402

from agenda.models import Appointment, AppointmentType, OpeningHours, Site  # noqa: E402
from agenda.services import Booking, SlotTaken, appointment_book  # noqa: E402
from core import tenancy  # noqa: E402
from core.accounts.selectors import actor_for  # noqa: E402
from core.accounts.services import person_create  # noqa: E402
from core.practices.services import practice_create  # noqa: E402
from records.models import Patient  # noqa: E402

CALLERS = int(sys.argv[1])


def setup() -> dict[str, int]:
    practice = practice_create(slug="concurrence-agenda", name="Cabinet Concurrence")
    with tenancy.practice_context(practice.pk):
        people = [
            person_create(
                username=username,
                full_name=username,
                password=None,
                practice=practice,
                roles=(role,),
                check_password=False,
            )
            for username, role in (("gp.agenda", "practitioner"), ("desk.agenda", "secretary"))
        ]
        gp, desk = people
        site = Site.objects.create(practice=practice, name="Cabinet")
        kind = AppointmentType.objects.create(practice=practice, name="Consultation", minutes=20)
        for weekday in range(7):
            OpeningHours.objects.create(
                practice=practice,
                practitioner=gp,
                site=site,
                weekday=weekday,
                starts=time(8),
                ends=time(19),
            )
        patients = [
            Patient.objects.create(
                practice=practice,
                birth_name=f"Patient{index}",
                given_names="Jean",
                sex="M",
                birth_date=date(1970, 1, 1) + timedelta(days=index),
                gp=gp,
            ).pk
            for index in range(CALLERS)
        ]
    return {
        "practice": practice.pk,
        "gp": gp.pk,
        "desk": desk.pk,
        "type": kind.pk,
        "patients": patients,
    }  # type: ignore[dict-item]


def book(ids: dict, index: int, starts: datetime, barrier, answers) -> None:  # type: ignore[no-untyped-def]
    from core.accounts.models import Person

    connections.close_all()  # a connection of this process's own
    try:
        with tenancy.practice_context(ids["practice"], ids["desk"]):
            actor = actor_for(Person.objects.get(pk=ids["desk"]), ids["practice"])
        barrier.wait(timeout=60)
        with transaction.atomic(), tenancy.practice_context(ids["practice"], ids["desk"]):
            appointment_book(
                actor=actor,
                booking=Booking(
                    practitioner_id=ids["gp"],
                    type_id=ids["type"],
                    starts_at=starts,
                    patient_id=ids["patients"][index],
                    channel="phone",
                ),
            )
        answers.put(("booked", ""))
    except SlotTaken as taken:
        answers.put(("taken", f"{len(taken.next_slots)}|{taken.messages[0]}"))
    except Exception as error:  # reported, so the test fails naming it
        answers.put(("error", repr(error)))
    finally:
        connections.close_all()


def main() -> None:
    ids = setup()
    zone = ZoneInfo(settings.TIME_ZONE)
    starts = datetime.combine(
        datetime.now(tz=zone).date() + timedelta(days=1), time(10), tzinfo=zone
    )
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CALLERS)
    answers = context.Queue()
    processes = [
        context.Process(target=book, args=(ids, index, starts, barrier, answers))
        for index in range(CALLERS)
    ]
    for process in processes:
        process.start()
    results = [answers.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    with tenancy.practice_context(ids["practice"]):
        held = list(
            Appointment.objects.filter(starts_at=starts).values_list("patient_id", flat=True)
        )
    print(json.dumps({"answers": results, "held": held, "pids": len({p.pid for p in processes})}))


if __name__ == "__main__":
    main()
