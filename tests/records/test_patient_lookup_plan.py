"""The FHIR name search (records.selectors.patient_lookup) reaches patients through
indexes under row-level security, on a practice of a few thousand patients."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db import connection

from carnet import embedded
from core import tenancy
from records.models import Patient
from records.selectors.patient_lookup import NameTerm, patients_found
from tests.fixtures import World

FAMILIES = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Leroy"]
GIVEN = ["Jeanne", "Louis", "Emma", "Hugo", "Léa", "Jules", "Chloé", "Arthur", "Inès"]


def register_many(world: World, count: int) -> None:
    """Patients with varied names (a number makes each family name its own word)."""
    tenancy.activate(world.practice_a.pk)
    Patient.objects.bulk_create(
        Patient(
            practice=world.practice_a,
            birth_name=f"{FAMILIES[n % len(FAMILIES)]}{n // 40}",
            given_names=GIVEN[n % len(GIVEN)],
            sex="F" if n % 2 else "M",
            birth_date=date(1940, 1, 1) + timedelta(days=n * 7),
        )
        for n in range(count)
    )
    # Statistics, as a node's autovacuum keeps them: only the tables' owner may gather
    # them (the tests connect as a superuser acting as the application role).
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        for table in ("records_patient", "records_patientword", "records_nameword"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute(f'SET ROLE "{embedded.APP_ROLE}"')


def test_a_name_search_reads_the_patients_by_their_words_not_the_whole_practice(
    world: World,
) -> None:
    register_many(world, 3000)
    actor = world.actor(world.alice)
    found = patients_found(actor=actor, family=[[NameTerm("dupont")]])
    assert [p.pk for p in found] == [world.paul.pk]
    plan = found.explain()
    # The dictionary words beginning with the term, the patients having one of them,
    # then those patients by primary key: index conditions all, never the practice's
    # patients one by one.
    assert re.search(r"Index Cond: .*\bword >= ", plan), plan
    assert re.search(r"Index Cond: .*\bword = ANY", plan), plan
    assert re.search(r"Index Scan using records_patient_pkey on records_patient\b", plan), plan
    assert re.search(r"Index Cond: \(id = ANY", plan), plan
    for table in ("records_patient", "records_patientword", "records_nameword"):
        assert f"Seq Scan on {table} " not in plan, plan
    patient_scans = [line.strip() for line in plan.splitlines() if " on records_patient " in line]
    assert len(patient_scans) == 1 and "records_patient_pkey" in patient_scans[0], plan


def test_every_way_to_name_a_patient_still_finds_them_through_the_words(world: World) -> None:
    """The words narrow the search, the FHIR rules decide: starts, exact, a comma list,
    a value of several words or with a hyphen, given names, accents and case."""
    register_many(world, 200)
    tenancy.activate(world.practice_a.pk)
    helene = Patient.objects.create(
        practice=world.practice_a,
        birth_name="N'Diaye-Lefèvre",
        used_name="Martin Dubois",
        given_names="Hélène Marie",
        sex="F",
        birth_date=date(1990, 5, 17),
    )
    actor = world.actor(world.alice)

    def found(**terms: list[list[NameTerm]]) -> set[int]:
        return {p.pk for p in patients_found(actor=actor, **terms)}

    assert found(family=[[NameTerm("lefevre")]]) == {helene.pk}
    assert found(family=[[NameTerm("ndiaye")]]) == set()  # not a start of a word
    assert found(family=[[NameTerm("n'diaye-lef")]]) == {helene.pk}
    assert found(family=[[NameTerm("martin dub")]]) == {helene.pk}
    assert found(family=[[NameTerm("Martin Dubois", "exact")]]) == {helene.pk}
    assert found(family=[[NameTerm("DUBOIS")]]) == {helene.pk}
    assert found(given=[[NameTerm("hel"), NameTerm("zzz")]]) == {helene.pk}
    assert found(name=[[NameTerm("marie")], [NameTerm("dupont", "contains")]]) == set()
    assert found(name=[[NameTerm("dupont")]]) == {world.paul.pk}
    assert found(name=[[NameTerm("upon", "contains")]]) == {world.paul.pk}
    # Practice B's Zoé Zola: her words are her practice's (row-level security).
    assert found(family=[[NameTerm("zola")]]) == set()
    assert found(name=[[NameTerm("zo")]]) == set()
