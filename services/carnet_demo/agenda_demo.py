"""The demo practice's agenda: a site, the usual appointment types, each clinician's
week, a training day and the public holidays, and a week of appointments from today —
some patients already seen this morning, some in the waiting room, a walk-in, a caller
booked by name, a nurse round every Monday."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from agenda import services
from agenda.models import Appointment, AppointmentType, Channel, Site, Status
from agenda.selectors.slots import at, free_slots, local_zone
from agenda.services import Booking, HoursSpan
from core.access.policy import Actor
from core.accounts.models import Person

TYPES = [
    ("Consultation", 20, False),
    ("Consultation longue", 40, False),
    ("Visite à domicile", 30, True),
    ("Soins infirmiers", 15, False),
    ("Tournée infirmière", 30, True),
    ("Séance de kinésithérapie", 30, False),
]
# username -> (weekdays, spans, usual type)
WEEKS = {
    "claire.martin": (range(5), [(time(8, 30), time(12)), (time(14), time(19))], "Consultation"),
    "karim.benali": (range(6), [(time(9), time(12, 30)), (time(14), time(18, 30))], "Consultation"),
    "lucie.garnier": (range(6), [(time(7, 30), time(12))], "Soins infirmiers"),
    "hugo.lambert": (
        range(5),
        [(time(9), time(13)), (time(14), time(18))],
        "Séance de kinésithérapie",
    ),
}
REASONS = ["Renouvellement", "Certificat de sport", "Fièvre", "Suivi tension", "Vaccin"]


def demo_agenda_create(
    *, desk: Actor, people: dict[str, Person], patient_ids: list[int], address: dict[str, str]
) -> None:
    """Idempotent: nothing is added once the practice has appointments."""
    if Appointment.objects.exists():
        return
    rng = random.Random(14)  # noqa: S311 - demo data, not security
    site = Site.objects.first() or services.site_save(
        actor=desk,
        name="Maison de santé",
        address=address.get("address", ""),
        postal_code=address.get("postal_code", ""),
        city=address.get("city", ""),
        phone=address.get("phone", ""),
    )
    kinds: dict[str, AppointmentType] = {}
    for name, minutes, home in TYPES:
        kinds[name] = services.type_save(actor=desk, name=name, minutes=minutes, is_home_visit=home)
    for username, (days, spans, _usual) in WEEKS.items():
        services.hours_set(
            actor=desk,
            practitioner_id=people[username].pk,
            spans=[HoursSpan(day, site.pk, s, e) for day in days for s, e in spans],
        )
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        services.holidays_add(actor=desk, year=year)
    training = today + timedelta(days=(3 - today.weekday()) % 7 + 7)  # Thursday next week
    services.absence_add(
        actor=desk,
        practitioner_id=people["karim.benali"].pk,
        starts_at=at(training, time.min),
        ends_at=at(training + timedelta(days=1), time.min),
        label="Formation (DPC)",
    )
    # A nurse round every Monday for 8 weeks, from the first Monday the 8 weeks hold no
    # public holiday.
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    for _attempt in range(10):
        try:
            services.series_book(
                actor=desk,
                booking=Booking(
                    practitioner_id=people["lucie.garnier"].pk,
                    type_id=kinds["Tournée infirmière"].pk,
                    starts_at=at(monday, time(11, 15)),
                    patient_id=patient_ids[7 % len(patient_ids)],
                    channel=Channel.PHONE,
                    reason="Pansement",
                    reason_is_administrative=True,
                ),
                every_weeks=1,
                count=8,
            )
            break
        except ValidationError:
            monday += timedelta(weeks=1)
    now = timezone.now()
    for username, (_days, _spans, usual) in WEEKS.items():
        _fill_week(desk, people[username], kinds[usual], kinds, patient_ids, rng, now)
    _today_in_progress(desk, people, kinds, patient_ids, rng)


def _fill_week(
    desk: Actor,
    person: Person,
    usual: AppointmentType,
    kinds: dict[str, AppointmentType],
    patient_ids: list[int],
    rng: random.Random,
    now: datetime,
) -> None:
    """About two slots in three taken over the coming week."""
    for slot in free_slots([person.pk], usual.minutes, after=now, days=7, limit=400):
        if rng.random() > 0.65:
            continue
        kind = usual if rng.random() > 0.15 else kinds["Consultation longue"]
        if kind is not usual and person.profession != "gp":
            kind = usual
        caller = rng.random() < 0.04
        try:
            services.appointment_book(
                actor=desk,
                booking=Booking(
                    practitioner_id=person.pk,
                    type_id=kind.pk,
                    starts_at=slot.starts,
                    patient_id=None if caller else rng.choice(patient_ids),
                    caller_name="Mme Fabienne Roche" if caller else "",
                    caller_phone="06 21 43 65 87" if caller else "",
                    channel=rng.choice([Channel.PHONE, Channel.PHONE, Channel.DESK]),
                    reason=rng.choice(REASONS) if rng.random() < 0.3 else "",
                ),
            )
        except ValidationError:
            continue  # a longer consultation would run into the next slot or past closing


def _today_in_progress(
    desk: Actor,
    people: dict[str, Person],
    kinds: dict[str, AppointmentType],
    patient_ids: list[int],
    rng: random.Random,
) -> None:
    """This morning as the demo opens: three patients already seen, two waiting, one
    walk-in. Earlier hours cannot be booked now (the past): they are written as the day
    would have left them."""
    gp = people["claire.martin"]
    practice_id = desk.practice_id
    assert practice_id is not None
    now = timezone.now().astimezone(local_zone())
    consultation = kinds["Consultation"]
    for hours_ago in (3, 2, 1):
        starts = now - timedelta(hours=hours_ago)
        Appointment.objects.create(
            practice_id=practice_id,
            practitioner=gp,
            patient_id=rng.choice(patient_ids),
            type=consultation,
            site=Site.objects.first(),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=20),
            status=Status.DONE,
            channel=Channel.PHONE,
            arrived_at=starts - timedelta(minutes=10),
            seen_at=starts,
            created_by_id=desk.person_id,
        )
    for minutes_ago in (25, 10):
        starts = now - timedelta(minutes=minutes_ago)
        Appointment.objects.create(
            practice_id=practice_id,
            practitioner=gp,
            patient_id=rng.choice(patient_ids),
            type=consultation,
            site=Site.objects.first(),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=5),
            status=Status.ARRIVED,
            channel=Channel.DESK,
            arrived_at=starts - timedelta(minutes=5),
            outside_hours=True,
            created_by_id=desk.person_id,
        )
    services.walk_in(
        actor=desk,
        patient_id=patient_ids[3 % len(patient_ids)],
        type_id=consultation.pk,
        reason="Sans rendez-vous",
    )
