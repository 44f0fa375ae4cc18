"""The day itself: patients checked in on arrival, walk-ins joining the queue, the
practitioner calling the next one in and the visit done."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agenda.models import Appointment, Channel, Status
from agenda.services.booking import appointment_for_change
from agenda.services.common import (
    appointment_type,
    audit,
    check_practitioner,
    field_error,
    patient_for_writing,
    practice_of,
)
from core.access.policy import Action, Actor, Category, Purpose
from core.access.services import require_patient


def check_in(*, actor: Actor, appointment_id: int, patient_id: int | None = None) -> Appointment:
    """The patient is here: into the waiting room (audited ``appointment.arrived``). A
    caller booked by name is registered first, then given here as ``patient_id``."""
    appointment = appointment_for_change(actor, appointment_id)
    if appointment.status != Status.BOOKED:
        raise ValidationError(_("This appointment cannot be checked in."), code="status")
    if appointment.patient_id is None:
        if patient_id is None:
            raise field_error("patient", _("Register the patient, then check them in."), "register")
        patient_for_writing(actor, patient_id, practitioner_id=appointment.practitioner_id)
        appointment.patient_id = patient_id
    appointment.status = Status.ARRIVED
    appointment.arrived_at = timezone.now()
    appointment.version += 1
    appointment.save()
    audit("appointment.arrived", actor, appointment)
    return appointment


def walk_in(
    *,
    actor: Actor,
    patient_id: int | None,
    type_id: int | None,
    practitioner_id: int | None = None,
    reason: str = "",
) -> Appointment:
    """A patient without an appointment joins the queue, for one practitioner or for
    whoever is free (audited ``appointment.walk_in``)."""
    if patient_id is None:
        raise field_error(
            "patient", _("Choose the patient (register them first if they are new)."), "required"
        )
    if practitioner_id is not None:
        check_practitioner(actor, practitioner_id)
    kind = appointment_type(type_id)
    patient_for_writing(actor, patient_id, practitioner_id=practitioner_id)
    now = timezone.now()
    appointment = Appointment.objects.create(
        practice_id=practice_of(actor),
        practitioner_id=practitioner_id,
        patient_id=patient_id,
        type=kind,
        channel=Channel.WALK_IN,
        status=Status.ARRIVED,
        arrived_at=now,
        reason=reason.strip()[:300],
        created_by_id=actor.person_id,
    )
    audit("appointment.walk_in", actor, appointment)
    return appointment


def start(*, actor: Actor, appointment_id: int) -> Appointment:
    """The practitioner calls the patient in (audited ``appointment.start``). A walk-in
    for whoever is free becomes theirs; its visit time starts now."""
    appointment = appointment_for_change(actor, appointment_id)
    if appointment.patient_id is None:
        raise field_error("patient", _("Register the patient, then check them in."), "register")
    patient = patient_for_writing(actor, appointment.patient_id, practitioner_id=actor.person_id)
    assert patient is not None
    # Calling a patient in is starting their consultation: the policy must let the
    # actor write their clinical record (a secretary never does; a practitioner outside
    # the patient's care team needs emergency access). The refusal is audited.
    require_patient(
        actor,
        Action.WRITE,
        Category.CLINICAL,
        Purpose.CARE,
        patient.facts,
        target=f"appointment:{appointment.pk}",
        audit_success=False,
    )
    if appointment.status not in (Status.BOOKED, Status.ARRIVED):
        raise ValidationError(_("This appointment cannot be started."), code="status")
    if appointment.practitioner_id not in (None, actor.person_id):
        raise ValidationError(
            _("This appointment is with another practitioner."), code="other_practitioner"
        )
    now = timezone.now()
    appointment.practitioner_id = actor.person_id
    appointment.status = Status.IN_CONSULTATION
    appointment.seen_at = now
    if appointment.channel == Channel.WALK_IN:
        appointment.starts_at = now
        appointment.ends_at = now + timedelta(minutes=appointment.type.minutes)
    appointment.version += 1
    appointment.save()
    audit("appointment.start", actor, appointment)
    return appointment


def finish(*, actor: Actor, appointment_id: int, encounter_id: int | None = None) -> Appointment:
    """The visit is over (audited ``appointment.done``), linked to its consultation."""
    appointment = appointment_for_change(actor, appointment_id)
    if appointment.status not in (Status.ARRIVED, Status.IN_CONSULTATION, Status.BOOKED):
        raise ValidationError(_("This appointment is already closed."), code="status")
    if appointment.seen_at is None:
        appointment.seen_at = timezone.now()
    if appointment.practitioner_id is None:
        appointment.practitioner_id = actor.person_id
    if appointment.starts_at is None:
        appointment.starts_at = appointment.seen_at
        appointment.ends_at = appointment.seen_at + timedelta(minutes=appointment.type.minutes)
    appointment.status = Status.DONE
    if encounter_id is not None:
        appointment.encounter_id = encounter_id
    appointment.version += 1
    appointment.save()
    audit("appointment.done", actor, appointment, encounter=encounter_id or "")
    return appointment
