"""Reading a patient's identity history, and what a merge of two records would do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.access.policy import Action, Actor, Category, Purpose
from core.accounts.selectors import staff_of_practice
from core.prepared import Prepared
from records import access as records_access
from records.access import PatientAccess
from records.models import IdentityChange, Patient
from records.selectors.patients import (
    _excluding,
    patient_with_access,
    patient_with_access_and,
    patients_with_access,
    possible_duplicates,
)

HISTORY_LIMIT = 50
# Professions that cannot be a médecin traitant (a blank profession is not known, so
# it is offered: practices that never filled it in can still choose).
NOT_DOCTORS = {"nurse", "physio", "midwife"}


def gp_candidates(practice_id: int) -> list[Any]:
    """The people who may be a patient's GP of record: the practice's active
    practitioners who are (or may be) doctors, by name."""
    seen: dict[int, Any] = {}
    for membership in staff_of_practice(practice_id):
        person = membership.person
        if (
            membership.is_practitioner
            and membership.is_active
            and person.is_active
            and person.profession not in NOT_DOCTORS
        ):
            seen.setdefault(person.pk, person)
    return list(seen.values())


# The latest changes first, with who made them (read with the patient on the chart,
# core.prepared).
IDENTITY_HISTORY = Prepared(
    lambda patient: (
        IdentityChange.objects.filter(patient_id=patient)
        .select_related("changed_by")
        .order_by("-changed_at", "-pk")[:HISTORY_LIMIT]
    )
)


def identity_history(*, actor: Actor, patient_id: int) -> tuple[Patient, list[IdentityChange]]:
    """The patient and the changes to their identity, if the actor may read it (the read
    is audited)."""
    patient, access = patient_with_access(patient_id)
    records_access.require(actor, Action.READ, Category.IDENTITY, patient, access=access)
    return patient, IDENTITY_HISTORY.all(patient=patient.pk)


# The entries a merge moves, with their names in words (the preview's counts).
MERGE_COUNTS = (
    ("encounter", gettext_lazy("Consultations")),
    ("problem", gettext_lazy("Problems and history")),
    ("allergy", gettext_lazy("Allergies and intolerances")),
    ("prescription", gettext_lazy("Prescriptions")),
    ("immunization", gettext_lazy("Vaccinations")),
    ("observation", gettext_lazy("Observations and results")),
    ("document", gettext_lazy("Documents and letters")),
)


@dataclass
class MergePreview:
    keep: Patient
    duplicate: Patient
    counts: list[tuple[str, int]]  # (what, how many entries move)

    @property
    def total(self) -> int:
        return sum(count for _label, count in self.counts)


def merge_candidates(*, actor: Actor, keep: Patient) -> list[Patient]:
    """Records that may be the same person as ``keep``: the same NIR, or a close name and
    the same birth date. Those who excluded the actor from their record are not listed
    (as in the search)."""
    found = possible_duplicates(
        birth_name=keep.used_name or keep.birth_name,
        given_names=keep.given_names,
        birth_date=keep.birth_date,
        nir=keep.nir,
    )
    if keep.used_name and keep.used_name != keep.birth_name:
        found += possible_duplicates(
            birth_name=keep.birth_name, given_names=keep.given_names, birth_date=keep.birth_date
        )
    hidden = set(_excluding(actor.person_id).values_list("patient_id", flat=True))
    seen: dict[int, Patient] = {}
    for patient in found:
        if patient.pk != keep.pk and patient.pk not in hidden:
            seen.setdefault(patient.pk, patient)
    return list(seen.values())


def merge_preview(*, actor: Actor, keep_id: int, duplicate_id: int) -> MergePreview:
    """Both identities and how many entries would move, if the actor may merge them
    (the rights ``patient_merge`` asks, checked and audited on both records)."""
    if keep_id == duplicate_id:
        raise ValidationError(
            {"duplicate": _("A record cannot be merged into itself: choose the duplicate.")},
            code="same",
        )
    records = []
    for patient_id in (keep_id, duplicate_id):
        patient, access = patient_with_access(patient_id)
        records_access.require(
            actor,
            Action.WRITE,
            Category.IDENTITY,
            patient,
            purpose=Purpose.ADMINISTRATION,
            access=access,
        )
        records_access.require(actor, Action.WRITE, Category.CLINICAL, patient, access=access)
        records.append(patient)
    keep, duplicate = records
    if duplicate.merged_into_id:
        raise ValidationError(
            {"duplicate": _("This record was already merged into another one.")},
            code="already_merged",
        )
    counts = [
        (str(label), apps.get_model("records", name).objects.filter(patient=duplicate).count())
        for name, label in MERGE_COUNTS
    ]
    return MergePreview(keep, duplicate, counts)


def identity_for_change(
    *, actor: Actor, patient_id: int, category: Category = Category.IDENTITY
) -> tuple[PatientAccess, list[IdentityChange]]:
    """The patient, the facts for the policy and the identity history, for a page that
    changes the identity (or, with ``category``, the GP of record): the actor must be
    allowed to write it (audited)."""
    patient, access, (history,) = patient_with_access_and(
        patient_id, IDENTITY_HISTORY.bind(patient=patient_id)
    )
    records_access.require(
        actor, Action.WRITE, category, patient, purpose=Purpose.ADMINISTRATION, access=access
    )
    return access, history


def merge_start(*, actor: Actor, patient_id: int) -> tuple[Patient, list[Patient]]:
    """The record to keep, if the actor may merge into it (the rights ``patient_merge``
    asks, audited), and the records that look like the same person."""
    patient, access = patient_with_access(patient_id)
    records_access.require(
        actor,
        Action.WRITE,
        Category.IDENTITY,
        patient,
        purpose=Purpose.ADMINISTRATION,
        access=access,
    )
    records_access.require(actor, Action.WRITE, Category.CLINICAL, patient, access=access)
    return patient, merge_candidates(actor=actor, keep=patient)


def patients_named(*, actor: Actor, patient_ids: list[int]) -> dict[int, str]:
    """The names of these patients, for a list the practice reviews (e.g. the emergency
    accesses): each identity read once and audited; a patient who has excluded the
    reader is left out (the page then says so rather than show a number)."""
    found = patients_with_access(sorted(set(patient_ids)))
    names: dict[int, str] = {}
    for patient_id, (patient, access) in found.items():
        if records_access.may_read(actor, access, Category.IDENTITY, Purpose.ADMINISTRATION):
            records_access.require(
                actor,
                Action.READ,
                Category.IDENTITY,
                patient,
                purpose=Purpose.ADMINISTRATION,
                access=access,
            )
            names[patient_id] = patient.display_name
    return names
