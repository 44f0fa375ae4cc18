"""The policy decision point: may this person do this action on this patient's data of
this category, for this purpose?

One pure function, ``decide``, answers with a ``Decision`` (allowed or not, and why).
It performs no I/O: the caller gathers the facts (``Actor`` and ``PatientFacts``), so the
same rules serve the UI, the API, FHIR, PDFs, exports and sharing, and the rules can be
tested exhaustively. Default deny: anything no rule allows is refused.

Rules so far (the records and sharing services add patient restrictions, sensitivity
labels, consents and break-the-glass):

1. node admins and cooperative admins never reach patient data;
2. nobody reaches a patient of another practice;
3. identity and administrative data: practitioners, secretaries (and practice admins
   for reading) of the patient's practice;
4. clinical data: practitioners of the patient's practice who are in the patient's
   care team (the GP of record is in it) — never secretaries or admins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    PRINT = "print"
    EXPORT = "export"
    SHARE = "share"


class Category(StrEnum):
    IDENTITY = "identity"  # names, birth date, NIR, address
    ADMINISTRATIVE = "administrative"  # insurance, billing, appointments
    CLINICAL = "clinical"  # consultations, problems, treatments, results


class Purpose(StrEnum):
    CARE = "care"
    BILLING = "billing"
    ADMINISTRATION = "administration"
    PATIENT_REQUEST = "patient_request"


class RoleName(StrEnum):
    PRACTITIONER = "practitioner"
    SECRETARY = "secretary"
    PRACTICE_ADMIN = "practice_admin"


@dataclass(frozen=True)
class Actor:
    """Who asks. ``roles`` are the person's roles in ``practice_id``."""

    person_id: int
    practice_id: int | None
    roles: frozenset[str] = frozenset()
    is_node_admin: bool = False
    is_cooperative_admin: bool = False
    label: str = ""


@dataclass(frozen=True)
class PatientFacts:
    """What the policy needs to know about the patient."""

    patient_id: int
    practice_id: int
    care_team: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: str

    def __bool__(self) -> bool:
        return self.allowed


def _deny(rule: str, reason: str) -> Decision:
    return Decision(False, reason, rule)


def _allow(rule: str, reason: str) -> Decision:
    return Decision(True, reason, rule)


ADMINISTRATIVE_CATEGORIES = {Category.IDENTITY, Category.ADMINISTRATIVE}


def decide(
    actor: Actor,
    action: Action,
    category: Category,
    purpose: Purpose,
    patient: PatientFacts,
) -> Decision:
    if actor.is_node_admin:
        return _deny("no-clinical-role", "node administrators have no access to patient data")
    if actor.practice_id is None or actor.practice_id != patient.practice_id:
        return _deny("other-practice", "the patient belongs to another practice")
    roles = actor.roles
    if not roles:
        return _deny("no-role", "no role in this practice")

    if category in ADMINISTRATIVE_CATEGORIES:
        if roles & {RoleName.PRACTITIONER, RoleName.SECRETARY}:
            return _allow("practice-staff", "staff of the patient's practice")
        if RoleName.PRACTICE_ADMIN in roles and action == Action.READ:
            return _allow("practice-admin-read", "practice administrator, identity only")
        return _deny("role", "this role has no access to patient files")

    if category == Category.CLINICAL:
        if RoleName.PRACTITIONER not in roles:
            return _deny("not-practitioner", "only practitioners see clinical content")
        if purpose != Purpose.CARE and action != Action.PRINT:
            return _deny("purpose", "clinical data is only for care")
        if actor.person_id in patient.care_team:
            return _allow("care-team", "member of the patient's care team")
        return _deny("not-in-care-team", "not in the patient's care team")

    return _deny("default", "no rule allows this")
