"""The demo's documentation time: a month of acts for one practitioner (and a few acts a
month before it, for the twelve-month trend), so that the report has something to show.

Every act goes through the one service (``services.care_time``), with the times given
explicitly: the day's consultations with their notes, prescriptions and the odd letter,
certificate, lab result signed off and invoice. Deterministic (a seeded generator) and
idempotent (a practitioner who already has acts gets none).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from core.access.policy import Actor
from records.models import ActKind, DocumentationAct, Encounter
from records.services import care_time

# (kind, least minutes, most minutes, chance per consultation)
EXTRAS = [
    (ActKind.PRESCRIPTION, 2, 6, 0.7),
    (ActKind.INVOICE, 1, 3, 0.5),
    (ActKind.OBSERVATION, 1, 3, 0.2),
    (ActKind.LETTER, 6, 18, 0.08),
    (ActKind.CERTIFICATE, 3, 8, 0.08),
    (ActKind.LAB_RESULT, 2, 6, 0.15),
    (ActKind.PROBLEM, 1, 4, 0.1),
    (ActKind.VACCINATION, 1, 3, 0.05),
]


def _act(actor: Actor, kind: str, patient_id: int, opened: datetime, minutes: float) -> None:
    token = care_time.act_open(actor=actor, kind=kind, patient_id=patient_id, now=opened)
    care_time.act_record(
        actor=actor,
        kind=kind,
        token=token,
        patient_id=patient_id,
        now=opened + timedelta(minutes=minutes),
    )


def _day(
    actor: Actor,
    rng: random.Random,
    day: date,
    patient_ids: list[int],
    visits: int,
    notes: list[Encounter],
) -> None:
    """One working day: consultations one after the other, each note written during the
    visit, then what follows it (a prescription, the invoice...)."""
    zone = timezone.get_current_timezone()
    moment = datetime.combine(day, time(8, 30), tzinfo=zone)
    for _visit in range(visits):
        # The note of a real consultation of the demo when one is left to link.
        encounter = notes.pop() if notes else None
        patient_id = encounter.patient_id if encounter else rng.choice(patient_ids)
        seen_at = moment
        note_opened = seen_at + timedelta(minutes=rng.randrange(2, 8))
        note_minutes = rng.uniform(5, 16)
        token = care_time.act_open(
            actor=actor, kind=ActKind.CONSULTATION, patient_id=patient_id, now=note_opened
        )
        moment = note_opened + timedelta(minutes=note_minutes)
        care_time.act_record(
            actor=actor,
            kind=ActKind.CONSULTATION,
            token=token,
            patient_id=patient_id,
            encounter=encounter,
            now=moment,
        )
        if encounter is not None:
            # As the agenda does when the note closes an appointment of the day.
            care_time.act_link_visit(
                encounter_id=encounter.pk, appointment_id=None, seen_at=seen_at
            )
        for kind, low, high, chance in EXTRAS:
            if rng.random() < chance:
                minutes = rng.uniform(low, high)
                _act(actor, kind, patient_id, moment, minutes)
                moment += timedelta(minutes=minutes)
        moment += timedelta(minutes=rng.randrange(1, 6))
        if time(12, 15) < moment.time() < time(14, 0):
            moment = datetime.combine(day, time(14, 0), tzinfo=zone)


def demo_care_time_create(
    *, actor: Actor, patient_ids: list[int], today: date | None = None
) -> int:
    """A month of acts ending yesterday, and a lighter day a week over the eleven months
    before. Returns the acts written (0 when the practitioner already has measured ones)."""
    if not patient_ids or not care_time.is_timed(actor):
        return 0
    # Other demo steps (the lab's sign-offs) leave unmeasured acts: only measured ones
    # say this has run already.
    mine = DocumentationAct.objects.filter(practitioner_id=actor.person_id)
    if mine.filter(measured_seconds__isnull=False).exists():
        return 0
    rng = random.Random(14)  # noqa: S311 — demo data, not a secret
    today = today or timezone.localdate()
    notes = list(
        Encounter.objects.filter(author_id=actor.person_id).only("pk", "patient_id")[:2000]
    )
    for back in range(1, 31):
        day = today - timedelta(days=back)
        if day.weekday() < 5:
            _day(actor, rng, day, patient_ids, rng.randrange(14, 22), notes)
    for week in range(5, 52):
        day = today - timedelta(weeks=week)
        day -= timedelta(days=day.weekday())  # that week's Monday
        _day(actor, rng, day, patient_ids, rng.randrange(10, 20), notes)
    return mine.filter(measured_seconds__isnull=False).count()
