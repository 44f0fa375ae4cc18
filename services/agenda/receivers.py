"""The agenda listens to the record: a consultation started from an appointment closes
that appointment and is linked to it (records.signals.consultation_recorded)."""

from __future__ import annotations

import re
from typing import Any

from agenda.models import Appointment, Status
from agenda.services.visits import finish
from records.services import care_time
from records.signals import consultation_recorded

ORIGIN = re.compile(r"^appointment:(\d{1,12})$")


def link_consultation(*, encounter: Any, actor: Any, origin: str = "", **_kwargs: Any) -> None:
    match = ORIGIN.match(origin or "")
    if match is None:
        return
    # Row-level security keeps this to the current practice; the patient must be the
    # consultation's (a forged origin links nothing).
    appointment = Appointment.objects.filter(
        pk=int(match.group(1)),
        patient_id=encounter.patient_id,
        status__in=[Status.BOOKED, Status.ARRIVED, Status.IN_CONSULTATION],
    ).first()
    if appointment is None:
        return
    done = finish(actor=actor, appointment_id=appointment.pk, encounter_id=encounter.pk)
    # The note's documentation time is set beside the visit (called in to note saved).
    care_time.act_link_visit(
        encounter_id=encounter.pk, appointment_id=done.pk, seen_at=done.seen_at
    )


def connect() -> None:
    consultation_recorded.connect(link_consultation, dispatch_uid="agenda.link_consultation")
