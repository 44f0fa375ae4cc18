"""The patient's care team as the pages show it: who is in it, why, and who may be
added. In a practice whose care team is every clinician, that is every practitioner of
the practice; otherwise the GP of record and the people named in the team."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.access.policy import Action, Actor, Category, Purpose, decide
from core.accounts.selectors import clinicians_statement
from core.prepared import Bound, Prepared, fetch_together
from records import access as records_access
from records.access import PatientAccess
from records.models import CareTeamMember, Patient
from records.selectors.patients import patient_with_access

NAMED_TEAM = Prepared(
    lambda patient: (
        CareTeamMember.objects.filter(patient_id=patient)
        .select_related("person")
        .order_by("person__full_name", "person_id")
    )
)


@dataclass(frozen=True)
class TeamMember:
    person: Any  # core.accounts Person
    gp_of_record: bool = False
    excluded: bool = False  # the patient excluded them from the whole record


@dataclass
class CareTeam:
    practice_team: bool  # the practice's setting: every clinician is in it
    members: list[TeamMember] = field(default_factory=list)
    candidates: list[Any] = field(default_factory=list)  # clinicians who may be added
    may_change: bool = False  # a named team, and the reader may change it


def team_statements(patient: Patient) -> list[Bound]:
    """To run with others in one round trip; the rows go to ``team_from``."""
    return [NAMED_TEAM.bind(patient=patient.pk), clinicians_statement(patient.practice_id)]


def team_from(
    actor: Actor, access: PatientAccess, named: list[CareTeamMember], clinicians: list[Any]
) -> CareTeam:
    facts, patient = access.facts, access.patient
    people: dict[int, Any] = {}
    if patient.gp_id:
        people[patient.gp_id] = patient.gp
    for row in named:
        people.setdefault(row.person_id, row.person)
    if facts.practice_team:
        for person in clinicians:
            people.setdefault(person.pk, person)
    members = [
        TeamMember(person, person.pk == patient.gp_id, person.pk in facts.excluded)
        for person in people.values()
    ]
    members.sort(key=lambda m: (not m.gp_of_record, m.person.full_name, m.person.pk))
    may_write = decide(
        actor, Action.WRITE, Category.ADMINISTRATIVE, Purpose.ADMINISTRATION, facts
    ).allowed
    return CareTeam(
        practice_team=facts.practice_team,
        members=members,
        candidates=[c for c in clinicians if c.pk not in people],
        may_change=may_write and not facts.practice_team,
    )


def care_team_for(*, actor: Actor, patient_id: int) -> tuple[Patient, CareTeam]:
    """The patient's care team, if the actor may read the patient's administrative data
    (audited ``patient.read``)."""
    patient, access = patient_with_access(patient_id)
    records_access.require(
        actor,
        Action.READ,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.ADMINISTRATION,
        access=access,
    )
    named, clinicians = fetch_together(*team_statements(patient))
    return patient, team_from(actor, access, named, clinicians)
