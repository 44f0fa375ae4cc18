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

from django.db import connection
from django.utils import timezone

from core.access.policy import PatientFacts
from core.practices.selectors import practice_team_of
from records.models import Patient


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


# The care team, whole-record exclusions and active break-the-glass grants of several
# patients, in one statement (row-level security keeps it to the current practice).
_FACTS = """
SELECT 'team', patient_id, person_id FROM records_careteammember WHERE patient_id = ANY(%(ids)s)
UNION ALL
SELECT 'excluded', patient_id, person_id FROM access_restriction
 WHERE patient_id = ANY(%(ids)s) AND revoked_at IS NULL
   AND (entry_type = '' OR entry_id IS NULL)
UNION ALL
SELECT 'glass', patient_id, person_id FROM access_breakglass
 WHERE patient_id = ANY(%(ids)s) AND started_at <= %(now)s AND expires_at > %(now)s
"""


# The columns the agenda shows or the policy needs (``display_name`` uses the names).
_AGENDA_FIELDS = (
    "practice_id",
    "birth_name",
    "used_name",
    "given_names",
    "sex",
    "birth_date",
    "phone",
    "address",
    "postal_code",
    "city",
    "contact_preference",
    "deceased_on",
    "gp_id",
)


def patients_for_agenda(patient_ids: Iterable[int]) -> dict[int, AgendaPatient]:
    """The patients of the current practice among ``patient_ids`` (two queries)."""
    ids = sorted({int(i) for i in patient_ids})
    if not ids:
        return {}
    patients = list(Patient.objects.filter(pk__in=ids).only(*_AGENDA_FIELDS))
    team: dict[int, set[int]] = {}
    excluded: dict[int, set[int]] = {}
    glass: dict[int, set[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_FACTS, {"ids": ids, "now": timezone.now()})
        for kind, patient_id, person_id in cursor.fetchall():
            target = team if kind == "team" else excluded if kind == "excluded" else glass
            target.setdefault(patient_id, set()).add(person_id)
    found = {}
    for patient in patients:
        members = team.get(patient.pk, set())
        if patient.gp_id:
            members = members | {patient.gp_id}
        address = " ".join(
            part for part in (patient.address, patient.postal_code, patient.city) if part
        )
        found[patient.pk] = AgendaPatient(
            id=patient.pk,
            name=patient.display_name,
            birth_date=patient.birth_date,
            phone=patient.phone,
            address=address,
            contact_preference=patient.contact_preference,
            deceased=patient.deceased_on is not None,
            facts=PatientFacts(
                patient_id=patient.pk,
                practice_id=patient.practice_id,
                care_team=frozenset(members),
                excluded=frozenset(excluded.get(patient.pk, ())),
                break_glass=frozenset(glass.get(patient.pk, ())),
                practice_team=practice_team_of(patient.practice_id),
            ),
        )
    return found
