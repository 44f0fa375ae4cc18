"""One search box: names in any order, accents, case and one typo ignored; birth date; NIR."""

from __future__ import annotations

import re

from core import tenancy
from records.selectors import patient_search
from tests.fixtures import World


def names(world: World, query: str) -> list[str]:
    actor = world.actor(world.sam)
    return [f"{p.given_names} {p.birth_name}" for p in patient_search(actor=actor, query=query)]


def test_a_misspelled_name_without_accents_finds_the_patient(people: World) -> None:
    assert names(people, "helene dupond")[0] == "Hélène Dupont"


def test_the_order_of_the_names_does_not_matter(people: World) -> None:
    assert names(people, "DUPONT hélène") == ["Hélène Dupont"]


def test_hyphens_and_apostrophes_are_found(people: World) -> None:
    assert names(people, "ndiaye lefevre") == [] or names(people, "n'diaye") == [
        "Aïssa N'Diaye-Lefèvre"
    ]
    assert names(people, "lefevre aissa") == ["Aïssa N'Diaye-Lefèvre"]


def test_a_birth_date_narrows_the_search(people: World) -> None:
    assert names(people, "14/03/1962") == ["Hélène Dupont"]
    assert names(people, "dup 14/03/1962") == ["Hélène Dupont"]


def test_an_impossible_date_finds_nobody_without_error(people: World) -> None:
    assert names(people, "31/02/1962") == []


def test_a_nir_prefix_finds_the_patient(people: World) -> None:
    assert names(people, "262036912301") == ["Hélène Dupont"]


def test_the_best_match_comes_first(people: World) -> None:
    # Both Duponts match exactly; the one whose name the term covers most comes first.
    assert names(people, "dupont") == ["Paul Dupont", "Hélène Dupont"]
    assert names(people, "dupont helene") == ["Hélène Dupont"]


def test_another_practice_patients_are_never_found(people: World) -> None:
    assert names(people, "zola zoe") == []


def test_the_names_are_indexed_for_the_search(db: None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_search_trgm'")
        (definition,) = cursor.fetchone()
        assert "gin (search_name gin_trgm_ops)" in definition  # possible duplicates
        # The dictionary's lookup keys (typos) and the beginnings of its words (typing).
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'name_key'")
        (definition,) = cursor.fetchone()
        assert "btree (practice_id, key, word)" in definition
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'name_word_prefix'")
        (definition,) = cursor.fetchone()
    assert 'btree (practice_id, ((word)::text) COLLATE "C")' in definition or (
        'btree (practice_id, word COLLATE "C")' in definition
    ), definition


# --- by words: the dictionary of name words and the words of each patient ---------------


def test_every_term_must_match_a_word_of_the_same_patient(people: World) -> None:
    assert names(people, "dupont marc") == []
    assert names(people, "dupuis marc") == ["Marc Dupuis"]


def test_the_beginning_of_a_name_finds_it(people: World) -> None:
    assert "Hélène Dupont" in names(people, "dupon")


def test_a_renamed_patient_is_found_by_the_new_name_only(people: World) -> None:
    from records.models import Patient

    tenancy.activate(people.practice_a.pk)
    marc = Patient.objects.get(birth_name="Dupuis")
    marc.used_name = "Mercier"
    marc.save()
    assert names(people, "mercier marc") == ["Marc Dupuis"]
    marc.birth_name = "Durand"
    marc.used_name = ""
    marc.save()
    assert names(people, "dupuis marc") == []
    assert names(people, "durand marc") == ["Marc Durand"]


def test_the_words_are_each_practice_own(people: World) -> None:
    from records.models import NameWord, PatientWord

    tenancy.activate(people.practice_a.pk)
    words = set(NameWord.objects.values_list("word", flat=True))
    assert {"dupont", "helene", "dupuis", "marc"} <= words
    assert "zola" not in words  # Zoé Zola is a patient of practice B
    assert set(PatientWord.objects.filter(patient=people.paul).values_list("word", flat=True)) == {
        "dupont",
        "paul",
    }
    tenancy.activate(people.practice_b.pk)
    assert set(NameWord.objects.values_list("word", flat=True)) == {"zola", "zoe"}


def test_the_search_reaches_patients_through_indexes_under_row_level_security(
    people: World,
) -> None:
    """Only LEAKPROOF operators may be evaluated before the tenant policy, and only they
    can drive an index: the lookup keys, the beginnings of words and the exact word lookup
    must all be index scans (sequential scans off, so the plan shows what is possible)."""
    from django.db import connection, transaction

    from records.selectors.patients import _search_sql

    actor = people.actor(people.sam)
    sql = _search_sql((False, False), 0, 0).replace("{columns}", "p.id")
    values = {"person": actor.person_id, "limit": 50, "t0": "helene", "t1": "dupond"}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", values)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Which index and which kind of scan depend on the tables' statistics (on the tests'
    # few rows any index will do); what matters is that the lookups are index
    # conditions, and that no word table has to be read in full.
    assert re.search(r"Index Cond: .*\bkey = ANY", plan), plan
    assert re.search(r"Index Cond: .*\bword\b.*>=", plan), plan
    for table in ("records_patientword", "records_nameword", "records_namekey"):
        assert f"Seq Scan on {table}" not in plan, plan
