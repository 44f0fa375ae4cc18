"""What the agenda may know of the record: who the patients are (names, birth date, how
to reach them) and the facts the access policy needs — for many patients at once, in a
fixed number of queries, so a day's list costs the same for 5 or 50 appointments.

No clinical content leaves here. The agenda decides and audits each read itself with
the one policy (``core.access``), an appointment being administrative data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from core.access.policy import PatientFacts
from core.practices.selectors import practice_team_of
from core.prepared import PreparedSQL, fetch_together
from records.models.patients import display_name


@dataclass(frozen=True)
class AgendaPatient:
    id: int
    name: str
    birth_date: date | None
    phone: str
    address: str
    contact_preference: str
    deceased: bool
    facts: PatientFacts


# The patients' names and how to reach them, as plain values: a day's list turns 40 of
# them into rows, and a model instance each cost more than the rest of the row.
_PATIENTS = PreparedSQL(
    """
SELECT id, practice_id, birth_name, used_name, given_names, sex, birth_date, phone,
       address, postal_code, city, contact_preference, deceased_on IS NOT NULL, gp_id
  FROM records_patient WHERE id = ANY(%(ids)s)
"""
)

# The care team, whole-record exclusions and active break-the-glass grants of several
# patients, in one statement (row-level security keeps it to the current practice).
_FACTS = PreparedSQL(
    """
SELECT 'team', patient_id, person_id FROM records_careteammember WHERE patient_id = ANY(%(ids)s)
UNION ALL
SELECT 'excluded', patient_id, person_id FROM access_restriction
 WHERE patient_id = ANY(%(ids)s) AND revoked_at IS NULL
   AND (entry_type = '' OR entry_id IS NULL)
UNION ALL
SELECT 'glass', patient_id, person_id FROM access_breakglass
 WHERE patient_id = ANY(%(ids)s) AND started_at <= %(now)s AND expires_at > %(now)s
"""
)


def patients_for_agenda(patient_ids: Iterable[int]) -> dict[int, AgendaPatient]:
    """The patients of the current practice among ``patient_ids`` (two statements, one
    round trip)."""
    ids = sorted({int(i) for i in patient_ids})
    if not ids:
        return {}
    patients, facts = fetch_together(
        _PATIENTS.bind(ids=ids), _FACTS.bind(ids=ids, now=timezone.now())
    )
    team: dict[int, set[int]] = {}
    excluded: dict[int, set[int]] = {}
    glass: dict[int, set[int]] = {}
    for kind, patient_id, person_id in facts:
        target = team if kind == "team" else excluded if kind == "excluded" else glass
        target.setdefault(patient_id, set()).add(person_id)
    found = {}
    for (
        pk,
        practice_id,
        birth_name,
        used_name,
        given_names,
        sex,
        birth_date,
        phone,
        address,
        postal_code,
        city,
        contact_preference,
        deceased,
        gp_id,
    ) in patients:
        members = team.get(pk, set())
        if gp_id:
            members = members | {gp_id}
        found[pk] = AgendaPatient(
            id=pk,
            name=display_name(birth_name, used_name, given_names, sex),
            birth_date=birth_date,
            phone=phone,
            address=" ".join(part for part in (address, postal_code, city) if part),
            contact_preference=contact_preference,
            deceased=deceased,
            facts=PatientFacts(
                patient_id=pk,
                practice_id=practice_id,
                care_team=frozenset(members),
                excluded=frozenset(excluded.get(pk, ())),
                break_glass=frozenset(glass.get(pk, ())),
                practice_team=practice_team_of(practice_id),
            ),
        )
    return found
