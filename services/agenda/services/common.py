"""What every write of the agenda shares: finding the practitioner, the type and the
patient, judging the write with the access policy, and the audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from agenda.models import Appointment, AppointmentType
from core.access.policy import Action, Actor, Category, PatientFacts, Purpose
from core.access.services import require_patient
from core.accounts.selectors import is_practitioner_of
from core.audit.services import record_event
from records.selectors.agenda import AgendaPatient, patients_for_agenda


def field_error(field: str, message: str, code: str) -> ValidationError:
    """An error on one field, with a code the API and the tests can rely on."""
    return ValidationError({field: ValidationError(message, code=code)})


def practice_of(actor: Actor) -> int:
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    return actor.practice_id


def check_practitioner(actor: Actor, practitioner_id: int | None) -> int:
    if practitioner_id is None or not is_practitioner_of(practitioner_id, practice_of(actor)):
        raise field_error(
            "practitioner", _("Choose a practitioner of this practice."), "unknown_practitioner"
        )
    return practitioner_id


def appointment_type(type_id: int | None) -> AppointmentType:
    found = (
        AppointmentType.objects.filter(pk=type_id, is_active=True).first()
        if type_id is not None
        else None
    )
    if found is None:
        raise field_error(
            "type", _("Choose a type of appointment of this practice."), "unknown_type"
        )
    return found


def patient_for_writing(
    actor: Actor,
    patient_id: int | None,
    *,
    practitioner_id: int | None = None,
    known: AgendaPatient | None = None,
) -> AgendaPatient | None:
    """The patient the appointment is for, if the policy lets the actor book for them
    (an administrative write); the practitioner chosen must not be one the patient
    excluded from their record. ``known``: the patient as read earlier in the same
    transaction, not read again."""
    practice_id = practice_of(actor)
    if patient_id is None:
        # A caller not registered yet: a write in the actor's own practice.
        require_patient(
            actor,
            Action.WRITE,
            Category.ADMINISTRATIVE,
            Purpose.ADMINISTRATION,
            PatientFacts(patient_id=0, practice_id=practice_id),
            target="appointment:new",
            audit_success=False,
        )
        return None
    patient = (
        known
        if known is not None and known.id == patient_id
        else patients_for_agenda([patient_id]).get(patient_id)
    )
    if patient is None:
        raise field_error("patient", _("No such patient in this practice."), "unknown")
    require_patient(
        actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        Purpose.ADMINISTRATION,
        patient.facts,
        target=f"patient:{patient_id}",
        audit_success=False,
    )
    if patient.deceased:
        raise field_error("patient", _("This patient's death is recorded."), "deceased")
    if practitioner_id is not None and practitioner_id in patient.facts.excluded:
        raise field_error(
            "practitioner",
            _("The patient has chosen not to be seen by this practitioner: choose another one."),
            "excluded",
        )
    return patient


def audit(action: str, actor: Actor, appointment: Appointment, **details: Any) -> None:
    record_event(
        action,
        actor=actor,
        patient_id=appointment.patient_id,
        category=Category.ADMINISTRATIVE.value,
        purpose=Purpose.ADMINISTRATION.value,
        target=f"appointment:{appointment.pk}",
        details={key: str(value) for key, value in details.items()},
    )
