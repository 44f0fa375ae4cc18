"""One search box: names in any order, accents, case and one typo ignored; birth date; NIR."""

from __future__ import annotations

from datetime import date

import pytest

from core import tenancy
from records import nir
from records.selectors import patient_search
from tests.factories import PatientFactory
from tests.fixtures import World


@pytest.fixture
def people(world: World) -> World:
    tenancy.activate(world.practice_a.pk)
    born = date(1962, 3, 14)
    PatientFactory(
        practice=world.practice_a,
        birth_name="Dupont",
        given_names="Hélène",
        birth_date=born,
        nir=nir.make("2", born, "69123", 17),
    )
    PatientFactory(
        practice=world.practice_a,
        birth_name="Dupuis",
        given_names="Marc",
        sex="M",
        nir=nir.make("1", date(1970, 5, 17), "69123", 18),
    )
    PatientFactory(
        practice=world.practice_a,
        birth_name="N'Diaye-Lefèvre",
        given_names="Aïssa",
        nir=nir.make("2", date(1970, 5, 17), "69123", 19),
    )
    return world


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
    assert names(people, "dupont")[0] == "Hélène Dupont"


def test_another_practice_patients_are_never_found(people: World) -> None:
    assert names(people, "zola zoe") == []


def test_the_names_are_indexed_for_trigram_search(db: None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'patient_search_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin (search_name gin_trgm_ops)" in definition
