"""Writing patients."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, PatientFacts, Purpose
from core.access.services import AccessDenied, require_patient
from core.accounts.selectors import is_practitioner_of
from core.audit.services import record_event
from core.practices.selectors import country_of, practice_team_of
from records import nir as nir_rules
from records.models import CareTeamMember, IdentityChange, Patient
from records.selectors.patients import possible_duplicates
from records.services.identity import check_birth_date, check_contact, check_gp, check_nir


def hold_registrations(practice_id: int, birth_dates: Iterable[date]) -> None:
    """Wait until no other transaction is registering a patient born on one of these
    days in the practice, and hold them until this one ends: the duplicate check and the
    insert are then one step, and two registrations of the same person sent at once
    (two desks, two files of an import) cannot both pass it. The locks are taken in
    order, so two transactions holding several days cannot wait for each other."""
    if not connection.in_atomic_block:
        raise RuntimeError("registrations are held by a transaction")
    keys = sorted({_registration_key(practice_id, born) for born in birth_dates})
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key ORDER BY key",
                [keys],
            )


def _registration_key(practice_id: int, born: date) -> int:
    digest = hashlib.sha256(f"patient-registration:{practice_id}:{born.isoformat()}".encode())
    return int.from_bytes(digest.digest()[:8], "big", signed=True)


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
    confirm_not_duplicate: bool = False,
    **identity_fields: Any,
) -> Patient:
    """Register a patient in the actor's practice. The NIR must be valid and agree with
    sex and birth date; a NIR already registered in the practice is refused. The GP of
    record, if any, is a doctor of the practice, GP from today, and joins the care team."""
    if actor.practice_id is None:
        raise ValidationError(_("No practice selected."))
    # Registering a patient is an identity write in the actor's own practice.
    require_patient(
        actor,
        Action.WRITE,
        Category.IDENTITY,
        Purpose.ADMINISTRATION,
        PatientFacts(patient_id=0, practice_id=actor.practice_id),
        target="patient:new",
    )
    nir = nir_rules.normalise(nir)
    check_birth_date(birth_date)
    check_nir(
        nir,
        sex=sex,
        birth_date=birth_date,
        patient_id=None,
        country=country_of(actor.practice_id),
    )
    check_gp(actor.practice_id, gp_id)
    check_contact(
        identity_fields.get("contact_preference", ""),
        phone=identity_fields.get("phone", ""),
        email=identity_fields.get("email", ""),
    )
    if not confirm_not_duplicate:
        hold_registrations(actor.practice_id, [birth_date])
    if not confirm_not_duplicate and possible_duplicates(
        birth_name=birth_name, given_names=given_names, birth_date=birth_date
    ):
        raise ValidationError(
            _("A patient with a close name and the same birth date exists: check, then confirm."),
            code="possible_duplicate",
        )
    patient = Patient(
        practice_id=actor.practice_id,
        birth_name=birth_name.strip(),
        given_names=given_names.strip(),
        sex=sex,
        birth_date=birth_date,
        nir=nir,
        gp_id=gp_id,
        gp_since=timezone.localdate() if gp_id else None,
        **identity_fields,
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


def _require_team_write(actor: Actor, patient: Patient) -> None:
    """The care team is administrative data of the patient: staff of the practice may
    change it (a refusal is audited; the success is the care_team.* event itself)."""
    from records.access import check

    decision = check(
        actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.ADMINISTRATION,
        audit_success=False,
    )
    if not decision.allowed:
        raise AccessDenied(decision)


def _named_team_editable(patient: Patient) -> None:
    if practice_team_of(patient.practice_id):
        raise ValidationError(
            _(
                "In this practice every clinician is in every patient's care team: there is "
                "no named team to change. The patient can still exclude someone."
            ),
            code="practice_team",
        )


@transaction.atomic
def care_team_add(*, actor: Actor, patient: Patient, person_id: int) -> None:
    """Name a practitioner of the practice in the patient's care team (audited
    ``care_team.add``). A secretary, a deactivated person or a person of another practice
    is refused, and nothing is stored."""
    _require_team_write(actor, patient)
    _named_team_editable(patient)
    if not is_practitioner_of(person_id, patient.practice_id):
        raise ValidationError(
            {
                "person": _(
                    "Only an active practitioner of this practice can join a patient's care team."
                )
            },
            code="not_practitioner",
        )
    if person_id == patient.gp_id:
        raise ValidationError(
            {"person": _("The GP of record is always in the care team.")}, code="member"
        )
    _member, created = CareTeamMember.objects.get_or_create(
        practice_id=patient.practice_id, patient=patient, person_id=person_id
    )
    if not created:
        raise ValidationError(
            {"person": _("This person is already in the patient's care team.")}, code="member"
        )
    record_event(
        "care_team.add",
        actor=actor,
        patient_id=patient.pk,
        category=Category.ADMINISTRATIVE.value,
        target=f"person:{person_id}",
    )


@transaction.atomic
def care_team_remove(*, actor: Actor, patient: Patient, person_id: int) -> None:
    """Take a person out of the patient's named care team (audited ``care_team.remove``).
    The GP of record stays in it: change the GP of record instead."""
    _require_team_write(actor, patient)
    _named_team_editable(patient)
    if person_id == patient.gp_id:
        raise ValidationError(
            {
                "person": _(
                    "The GP of record is always in the care team. To take them out, change "
                    "the GP of record; to keep them out of the record, record the patient's "
                    "exclusion."
                )
            },
            code="gp_of_record",
        )
    deleted, _kinds = CareTeamMember.objects.filter(patient=patient, person_id=person_id).delete()
    if not deleted:
        raise ValidationError(
            {"person": _("This person is not in the patient's care team.")}, code="not_member"
        )
    record_event(
        "care_team.remove",
        actor=actor,
        patient_id=patient.pk,
        category=Category.ADMINISTRATIVE.value,
        target=f"person:{person_id}",
    )


MERGED_MODELS = (
    "encounter",
    "problem",
    "allergy",
    "prescription",
    "immunization",
    "observation",
    "document",
    "entryrevision",
)


@transaction.atomic
def patient_merge(*, actor: Actor, keep: Patient, duplicate: Patient, reason: str) -> Patient:
    """Merge a duplicate into the patient kept: its entries move, it stays as a pointer.

    Both records must be readable and writable by the actor; the merge is audited on both.
    """
    from django.apps import apps

    from records.access import require

    if keep.pk == duplicate.pk:
        raise ValidationError(
            {"duplicate": _("A record cannot be merged into itself: choose the duplicate.")},
            code="same",
        )
    if duplicate.merged_into_id:
        raise ValidationError(
            {"duplicate": _("This record was already merged into another one.")},
            code="already_merged",
        )
    if keep.merged_into_id:
        raise ValidationError(
            _("This record was merged into another one: merge into the record that was kept."),
            code="kept_merged",
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why these records are the same person.")})
    # The merge is recorded once on each record (``patient.merge``), refusals as always.
    for patient in (keep, duplicate):
        require(
            actor,
            Action.WRITE,
            Category.IDENTITY,
            patient,
            purpose=Purpose.ADMINISTRATION,
            audit_success=False,
        )
        require(actor, Action.WRITE, Category.CLINICAL, patient, audit_success=False)
    moved = {}
    for name in MERGED_MODELS:
        model = apps.get_model("records", name)
        moved[name] = model.objects.filter(patient=duplicate).update(patient=keep)
    for member in CareTeamMember.objects.filter(patient=duplicate):
        CareTeamMember.objects.get_or_create(
            practice_id=keep.practice_id, patient=keep, person_id=member.person_id
        )
    duplicate.merged_into = keep
    # Both records changed (one points to the other, the other holds its entries): a new
    # version each, so a client holding either one's ETag reads it again.
    for patient in (keep, duplicate):
        patient.version += 1
    duplicate.save(update_fields=["merged_into", "version", "updated_at"])
    keep.save(update_fields=["version", "updated_at"])
    # In both identity histories: the duplicate's identity stays readable on its own
    # record (which now points to the one kept).
    for patient in (keep, duplicate):
        IdentityChange.objects.create(
            practice_id=patient.practice_id,
            patient=patient,
            kind=IdentityChange.Kind.MERGE,
            changes={},
            reason=reason,
            version=patient.version,
            changed_by_id=actor.person_id,
        )
    for patient, role in ((keep, "kept"), (duplicate, "merged")):
        record_event(
            "patient.merge",
            actor=actor,
            patient_id=patient.pk,
            target=f"patient:{duplicate.pk}->patient:{keep.pk}",
            reason=reason,
            details={"role": role, "moved": moved},
        )
    return keep
