"""Writing patients."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, PatientFacts, Purpose
from core.access.services import require
from core.audit.services import record_event
from records import nir as nir_rules
from records.models import CareTeamMember, Patient


@transaction.atomic
def patient_create(
    *,
    actor: Actor,
    birth_name: str,
    given_names: str,
    sex: str,
    birth_date: date,
    nir: str = "",
    gp_id: int | None = None,
    **identity: Any,
) -> Patient:
    """Register a patient in the actor's practice. The NIR must be valid and agree with
    sex and birth date; a NIR already registered in the practice is refused."""
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    # Registering a patient is an identity write in the actor's own practice.
    require(
        actor,
        Action.WRITE,
        Category.IDENTITY,
        Purpose.ADMINISTRATION,
        PatientFacts(patient_id=0, practice_id=actor.practice_id),
        target="patient:new",
    )
    nir = nir_rules.normalise(nir)
    if nir:
        parsed = nir_rules.parse(nir)
        nir_rules.check_coherence(parsed, sex=sex, birth_date=birth_date)
        if Patient.objects.filter(nir=nir).exists():
            raise ValidationError(
                {"nir": _("A patient with this NIR is already registered.")}, code="duplicate"
            )
    patient = Patient(
        practice_id=actor.practice_id,
        birth_name=birth_name.strip(),
        given_names=given_names.strip(),
        sex=sex,
        birth_date=birth_date,
        nir=nir,
        gp_id=gp_id,
        **identity,
    )
    patient.full_clean()
    patient.save()
    if gp_id:
        CareTeamMember.objects.create(
            practice_id=actor.practice_id, patient=patient, person_id=gp_id
        )
    record_event(
        "patient.create",
        actor=actor,
        patient_id=patient.pk,
        category=Category.IDENTITY.value,
        target=f"patient:{patient.pk}",
    )
    return patient


@transaction.atomic
def care_team_add(*, actor: Actor, patient: Patient, person_id: int) -> None:
    from records.access import require as records_require

    records_require(
        actor, Action.WRITE, Category.ADMINISTRATIVE, patient, purpose=Purpose.ADMINISTRATION
    )
    CareTeamMember.objects.get_or_create(
        practice_id=patient.practice_id, patient=patient, person_id=person_id
    )
    record_event(
        "care_team.add",
        actor=actor,
        patient_id=patient.pk,
        target=f"person:{person_id}",
    )
