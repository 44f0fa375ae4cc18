"""The records service's way to the policy decision point (core.access).

Every read or write of a patient's data goes through ``check`` or ``require``: they
gather the facts about the patient and let the one policy decide, and audit.
"""

from __future__ import annotations

from core.access.policy import Action, Actor, Category, Decision, PatientFacts, Purpose
from core.access.services import authorize
from core.access.services import require as core_require
from records.models import CareTeamMember, Patient


def facts_for(patient: Patient) -> PatientFacts:
    team = frozenset(
        CareTeamMember.objects.filter(patient=patient).values_list("person_id", flat=True)
    )
    if patient.gp_id:
        team = team | {patient.gp_id}
    return PatientFacts(patient_id=patient.pk, practice_id=patient.practice_id, care_team=team)


def check(
    actor: Actor,
    action: Action,
    category: Category,
    patient: Patient,
    *,
    purpose: Purpose = Purpose.CARE,
    audit_success: bool = True,
) -> Decision:
    return authorize(
        actor,
        action,
        category,
        purpose,
        facts_for(patient),
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
) -> Decision:
    return core_require(
        actor, action, category, purpose, facts_for(patient), target=f"patient:{patient.pk}"
    )
