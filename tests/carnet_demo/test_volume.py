"""Benchmark volume: exact counts, valid and unique NIRs, search names filled by the
trigger, and row-level security still separating the practices it writes."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from datetime import date

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from carnet_demo import volume
from core import tenancy
from core.accounts.models import Membership, Person
from core.accounts.validators import validate_rpps
from core.practices.models import Practice
from records import nir
from records.models import (
    Allergy,
    CareTeamMember,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from tests.fixtures import as_owner as owner_role

ENTRY_MODELS = (Encounter, Observation, Prescription, Problem, Allergy, Immunization)
SPEC = volume.VolumeSpec(practices=2, patients=200, entries=2_000, seed=5)


def current_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return str(cursor.fetchone()[0])


@pytest.fixture
def as_owner(db: None) -> Iterator[None]:
    """The generator writes as the tables' owner, like `carnet generate_volume` does."""
    with owner_role():
        yield


@pytest.fixture
def generated(as_owner: None) -> list[Practice]:
    result = volume.generate(SPEC)
    assert (result.practices, result.patients, result.entries) == (2, 200, 2_000)
    return list(Practice.objects.filter(slug__startswith=SPEC.slug_prefix).order_by("slug"))


def test_it_writes_exactly_what_was_asked(generated: list[Practice]) -> None:
    practices = generated
    assert len(practices) == 2
    patients = Patient.objects.filter(practice__in=practices)
    assert patients.count() == 200
    entries = sum(m.objects.filter(practice__in=practices).count() for m in ENTRY_MODELS)
    assert entries == 2_000
    assert Encounter.objects.filter(practice__in=practices).count() > 0
    assert PrescriptionItem.objects.filter(practice__in=practices).count() > 0

    staff = Membership.objects.filter(practice__in=practices)
    roles = sorted(staff.values_list("role", flat=True))
    assert roles == ["practitioner", "practitioner", "secretary", "secretary"]
    gps = {m.person_id for m in staff if m.role == "practitioner"}
    assert set(patients.values_list("gp_id", flat=True)) == gps
    assert CareTeamMember.objects.filter(patient__in=patients).count() == 200
    for gp in Person.objects.filter(pk__in=gps):
        assert gp.profession == "gp"
        validate_rpps(gp.rpps)


def test_every_nir_is_valid_coherent_and_unique(generated: list[Practice]) -> None:
    patients = list(Patient.objects.filter(practice__in=generated))
    for patient in patients:
        nir.check_coherence(nir.parse(patient.nir), sex=patient.sex, birth_date=patient.birth_date)
        assert patient.birth_date <= timezone.localdate()
    assert len({patient.nir for patient in patients}) == len(patients)


def test_the_trigger_fills_the_search_name(generated: list[Practice]) -> None:
    for patient in Patient.objects.filter(practice__in=generated):
        names = " ".join(
            n for n in (patient.birth_name, patient.used_name, patient.given_names) if n
        )
        assert patient.search_name == unaccented(names).lower()


def unaccented(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def test_entries_belong_to_their_patients_practice(generated: list[Practice]) -> None:
    for model in ENTRY_MODELS:
        mismatched = model.objects.filter(practice__in=generated).exclude(
            practice_id=F("patient__practice_id")
        )
        assert not mismatched.exists(), model.__name__


def test_each_practice_sees_only_its_own_patients(generated: list[Practice]) -> None:
    expected = {
        practice.pk: Patient.objects.filter(practice=practice).count() for practice in generated
    }
    encounters = {
        practice.pk: Encounter.objects.filter(practice=practice).count() for practice in generated
    }
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE carnet_app")  # under row-level security from here

    for practice in generated:
        tenancy.activate(practice.pk)
        assert Patient.objects.count() == expected[practice.pk] > 0
        assert set(Patient.objects.values_list("practice_id", flat=True)) == {practice.pk}
        assert Encounter.objects.count() == encounters[practice.pk]
    tenancy.activate(None)
    assert Patient.objects.count() == 0


def test_it_becomes_the_owner_when_the_session_may_and_switches_back(db: None) -> None:
    # The test session may switch to the owner role (it is a superuser session).
    assert current_role() == "carnet_app"

    result = volume.generate(volume.VolumeSpec(practices=1, patients=10, entries=40, seed=6))

    assert (result.patients, result.entries) == (10, 40)
    assert current_role() == "carnet_app"


def test_a_seed_is_used_once(as_owner: None) -> None:
    spec = volume.VolumeSpec(practices=1, patients=3, entries=3, seed=7)
    volume.generate(spec)
    with pytest.raises(ValueError, match="choose another --seed"):
        volume.generate(spec)


@pytest.mark.parametrize(("patients", "entries"), [(1, 0), (7, 3), (100, 2_000), (999, 12_345)])
def test_the_entry_budgets_add_up_exactly(patients: int, entries: int) -> None:
    spec = volume.VolumeSpec(practices=1, patients=patients, entries=entries)
    budgets = list(volume._budgets(spec))
    assert len(budgets) == patients
    assert sum(budgets) == entries
    assert min(budgets) >= 0
    assert budgets == list(volume._budgets(spec))  # deterministic


def test_nirs_stay_unique_when_many_people_share_a_birth_month() -> None:
    allocator = volume.NirAllocator(random.Random(1))
    numbers = [allocator.allocate("F", date(1980, 3, 14))[0] for _ in range(5_000)]
    assert len(set(numbers)) == 5_000
    for number in numbers:
        nir.check_coherence(nir.parse(number), sex="F", birth_date=date(1980, 3, 14))
