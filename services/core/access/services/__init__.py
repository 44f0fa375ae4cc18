"""Applying the policy: decide, and write the decision to the audit trail."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import translation

from core.access.policy import (
    Action,
    Actor,
    Category,
    CooperativeAction,
    Decision,
    EntryFacts,
    NodeAction,
    PatientFacts,
    PracticeAction,
    Purpose,
    decide,
    decide_cooperative,
    decide_node,
    decide_practice,
)
from core.audit.services import Outcome, record_event


class AccessDenied(PermissionDenied):
    """A refusal by the policy: a 403 page or JSON error, already audited."""

    @classmethod
    def from_reason(cls, reason: object, rule: str = "refused") -> AccessDenied:
        return cls(Decision(False, str(reason), rule))

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def authorize(
    actor: Actor,
    action: Action,
    category: Category,
    purpose: Purpose,
    patient: PatientFacts,
    *,
    entry: EntryFacts | None = None,
    target: str = "",
    audit_success: bool = True,
) -> Decision:
    """Decide and record. Every denial is audited; successes too unless the caller
    records a more precise event itself."""
    decision = decide(actor, action, category, purpose, patient, entry)
    if not decision.allowed or audit_success:
        record_event(
            f"patient.{action.value}" if decision.allowed else "access.denied",
            outcome=Outcome.SUCCESS if decision.allowed else Outcome.DENIED,
            actor=actor,
            practice_id=actor.practice_id,
            patient_id=patient.patient_id,
            category=category.value,
            purpose=purpose.value,
            reason=_english(decision.reason),
            target=target,
            details={"rule": decision.rule, "action": action.value},
        )
    return decision


def require_patient(
    actor: Actor,
    action: Action,
    category: Category,
    purpose: Purpose,
    patient: PatientFacts,
    *,
    entry: EntryFacts | None = None,
    target: str = "",
    audit_success: bool = True,
) -> Decision:
    """``authorize`` that raises ``AccessDenied`` on a denial: a patient's data, from the
    facts the caller gathered (the records service's ``records.access.require`` gathers
    them from a ``Patient``)."""
    decision = authorize(
        actor,
        action,
        category,
        purpose,
        patient,
        entry=entry,
        target=target,
        audit_success=audit_success,
    )
    if not decision.allowed:
        raise AccessDenied(decision)
    return decision


def require_practice(
    actor: Actor,
    action: PracticeAction,
    practice_id: int,
    *,
    target: str = "",
    subject_id: int | None = None,
) -> Decision:
    """The practice's settings, staff and agenda: decide; a denial is audited and raised
    (403). The caller records the success with what it did."""
    decision = decide_practice(actor, action, practice_id, subject_id)
    if not decision.allowed:
        record_event(
            "access.denied",
            outcome=Outcome.DENIED,
            actor=actor,
            practice_id=actor.practice_id,
            reason=_english(decision.reason),
            target=target or f"practice:{practice_id}",
            details={"rule": decision.rule, "action": action.value},
        )
        raise AccessDenied(decision)
    return decision


def require_cooperative(
    actor: Actor, action: CooperativeAction, *, by_token: bool = False, target: str = ""
) -> Decision:
    """The cooperative's administration: decide; a denial is audited and raised (403).
    The caller records the success with what it did. ``actor.practice_id`` is usually
    None (the cooperative is no practice): the event then goes to the node's chain."""
    decision = decide_cooperative(actor, action, by_token=by_token)
    if not decision.allowed:
        record_event(
            "access.denied",
            outcome=Outcome.DENIED,
            actor=actor,
            practice_id=actor.practice_id,
            reason=_english(decision.reason),
            target=target or "cooperative",
            details={"rule": decision.rule, "action": action.value},
        )
        raise AccessDenied(decision)
    return decision


def require_node(actor: Actor, action: NodeAction, *, target: str = "") -> Decision:
    """The node's own state: decide; a denial is audited (node chain) and raised (403)."""
    decision = decide_node(actor, action)
    if not decision.allowed:
        record_event(
            "access.denied",
            outcome=Outcome.DENIED,
            actor=actor,
            practice_id=actor.practice_id,
            reason=_english(decision.reason),
            target=target or "node",
            details={"rule": decision.rule, "action": action.value},
        )
        raise AccessDenied(decision)
    return decision


def _english(text: object) -> str:
    """The audit trail keeps one language, whatever the reader's."""
    with translation.override("en"):
        return str(text)
