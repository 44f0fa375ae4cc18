"""The records service's way to the policy decision point (core.access).

Every read or write of a patient's data goes through here: the facts about the patient
(care team, the patient's choices) are gathered once per request with a fixed number of
queries, then the one policy decides — for the record as a whole or entry by entry —
and the decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.access.policy import (
    Action,
    Actor,
    Category,
    Decision,
    EntryFacts,
    PatientFacts,
    Purpose,
    decide,
)
from core.access.selectors import choices_from, choices_statement
from core.access.services import authorize, require_patient
from core.practices.selectors import practice_team_of
from core.prepared import Bound, Prepared, fetch_together
from records.models import CareTeamMember, Patient


@dataclass(frozen=True)
class PatientAccess:
    """The patient and everything the policy needs about them."""

    patient: Patient
    facts: PatientFacts
    entry_exclusions: dict[tuple[str, int], frozenset[int]]

    def entry(self, entry: Any) -> EntryFacts:
        key = (entry.ENTRY_TYPE, entry.pk)
        return EntryFacts(
            author_id=entry.author_id,
            label=entry.sensitivity,
            excluded=self.entry_exclusions.get(key, frozenset()),
        )


CARE_TEAM = Prepared(
    lambda patient: CareTeamMember.objects.filter(patient_id=patient).values_list(
        "person_id", flat=True
    )
)


def statements_for(patient_id: int) -> list[Bound]:
    """What ``access_from`` needs, to run in one round trip (possibly with more)."""
    return [CARE_TEAM.bind(patient=patient_id), choices_statement(patient_id)]


def access_from(patient: Patient, team: list[int], choice_rows: list[Any]) -> PatientAccess:
    care_team = set(team)
    if patient.gp_id:
        care_team.add(patient.gp_id)
    choices = choices_from(choice_rows)
    facts = PatientFacts(
        patient_id=patient.pk,
        practice_id=patient.practice_id,
        care_team=frozenset(care_team),
        excluded=choices.excluded,
        label_grants=choices.label_grants,
        break_glass=choices.break_glass,
        # Known from entering the practice: no query on pages and in the API.
        practice_team=practice_team_of(patient.practice_id),
    )
    return PatientAccess(patient, facts, choices.entry_exclusions)


def access_for(patient: Patient) -> PatientAccess:
    team, choice_rows = fetch_together(*statements_for(patient.pk))
    return access_from(patient, team, choice_rows)


def facts_for(patient: Patient) -> PatientFacts:
    return access_for(patient).facts


def check(
    actor: Actor,
    action: Action,
    category: Category,
    patient: Patient,
    *,
    purpose: Purpose = Purpose.CARE,
    audit_success: bool = True,
    access: PatientAccess | None = None,
) -> Decision:
    access = access or access_for(patient)
    return authorize(
        actor,
        action,
        category,
        purpose,
        access.facts,
        target=f"patient:{patient.pk}",
        audit_success=audit_success,
    )


def require(
    actor: Actor,
    action: Action,
    category: Category,
    patient: Patient,
    *,
    purpose: Purpose = Purpose.CARE,
    access: PatientAccess | None = None,
    audit_success: bool = True,
) -> Decision:
    """Decide and audit; a denial is always audited and raised. ``audit_success=False``
    when the caller records the access itself, with what was read or printed: one access
    is one event in the patient's access report."""
    access = access or access_for(patient)
    return require_patient(
        actor,
        action,
        category,
        purpose,
        access.facts,
        target=f"patient:{patient.pk}",
        audit_success=audit_success,
    )


def may(
    actor: Actor,
    action: Action,
    category: Category,
    access: PatientAccess,
    *,
    purpose: Purpose = Purpose.CARE,
) -> bool:
    """What a page offers (a button), decided without an audit event: the action
    itself is decided and audited again when it is asked for."""
    return decide(actor, action, category, purpose, access.facts).allowed


def may_read(
    actor: Actor, access: PatientAccess, category: Category, purpose: Purpose = Purpose.CARE
) -> bool:
    """Filter a list of patients (what is read of them is audited once by the caller)."""
    return decide(actor, Action.READ, category, purpose, access.facts).allowed


def may_see_entry(
    actor: Actor, access: PatientAccess, entry: Any, action: Action = Action.READ
) -> bool:
    """Filter a list of entries (the read itself is audited once by the caller)."""
    return decide(
        actor, action, Category.CLINICAL, Purpose.CARE, access.facts, access.entry(entry)
    ).allowed


def require_entry(
    actor: Actor,
    action: Action,
    access: PatientAccess,
    entry: Any,
    *,
    purpose: Purpose = Purpose.CARE,
    audit_success: bool = True,
) -> Decision:
    """One entry, decided and audited (denials always; a success unless the caller
    records its own, more precise event: ``audit_success=False``)."""
    return require_patient(
        actor,
        action,
        Category.CLINICAL,
        purpose,
        access.facts,
        entry=access.entry(entry),
        target=f"{entry.ENTRY_TYPE}:{entry.pk}",
        audit_success=audit_success,
    )
