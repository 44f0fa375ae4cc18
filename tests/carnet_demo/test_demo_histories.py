"""Demo histories: plausible for the patient's age and sex, deterministic, written through
the services (audited, policy checked), sensitive entries labelled, and the chart opens."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.utils import timezone

from carnet_demo import records_demo as demo
from core.audit.models import AuditEvent
from records.models import (
    Allergy,
    Drug,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from records.selectors import chart_for
from tests.factories import PatientFactory
from tests.fixtures import World

TODAY = date(2026, 11, 22)
IDENTITIES = demo.demo_identities(200)


def plan(identity: dict) -> demo.History:
    return demo.plan_history(
        sex=identity["sex"], birth_date=identity["birth_date"], key=identity["nir"], today=TODAY
    )


def first_identity(matching) -> dict:
    return next(identity for identity in IDENTITIES if matching(plan(identity)))


def register(world: World, identities: list[dict]) -> list[Patient]:
    """Demo patients of practice A, Alice their GP (so in their care team)."""
    world.actor(world.alice)
    fields = ("birth_name", "given_names", "sex", "birth_date", "nir")
    return [
        PatientFactory(practice=world.practice_a, gp=world.alice, **{f: i[f] for f in fields})
        for i in identities
    ]


def write_histories(world: World, identities: list[dict]) -> int:
    actor = world.actor(world.alice)
    # The day the histories are planned from: the one the tests planned with, so that a
    # patient picked for their planned history gets that history whatever the date.
    return demo.demo_histories_create(
        actors={world.alice.pk: actor}, nirs=[i["nir"] for i in identities], today=TODAY
    )


# Planning (no database) ---------------------------------------------------------------


def test_every_demo_patient_gets_two_to_ten_consultations_in_their_lifetime() -> None:
    for identity in IDENTITIES:
        history = plan(identity)
        assert 2 <= len(history.consultations) <= 10
        for consultation in history.consultations:
            day = timezone.localdate(consultation.occurred_at)
            assert identity["birth_date"] < day < TODAY
            assert consultation.reason and consultation.assessment


def test_the_same_patient_always_gets_the_same_history() -> None:
    identity = IDENTITIES[7]
    assert plan(identity) == plan(identity)
    assert plan(identity) != plan(IDENTITIES[8])


def test_histories_fit_age_and_sex() -> None:
    for identity in IDENTITIES:
        history = plan(identity)
        age = demo.age_on(identity["birth_date"], TODAY)
        codes = {problem.code for problem in history.problems}
        if age < 30:
            assert "I10" not in codes
        if age >= 18:
            assert "L20" not in codes  # atopic dermatitis of children
        for consultation in history.consultations:
            vitals = dict(consultation.vitals)
            if demo.age_on(identity["birth_date"], consultation.occurred_at.date()) < 16:
                assert "systolic" not in vitals
            if identity["sex"] == "M":
                assert consultation.reason != "Brûlures urinaires"


def test_a_penicillin_allergy_changes_the_antibiotic() -> None:
    allergic = [i for i in IDENTITIES if "Pénicilline" in {a.substance for a in plan(i).allergies}]
    assert allergic
    for identity in allergic:
        labels = [
            item.medicine.label
            for consultation in plan(identity).consultations
            for item in consultation.items
        ]
        assert not [label for label in labels if "AMOXICILLINE" in label or "CLAMOXYL" in label]


def test_sensitive_problems_are_planned_with_their_label() -> None:
    identity = first_identity(lambda h: any(p.code == "F329" for p in h.problems))
    history = plan(identity)
    depression = next(p for p in history.problems if p.code == "F329")
    assert depression.sensitivity == "mental_health"
    about_it = [c for c in history.consultations if c.sensitivity]
    assert about_it
    assert all(c.sensitivity == "mental_health" for c in about_it)


# Writing -----------------------------------------------------------------------------


def test_each_demo_patient_gets_an_audited_history(world: World) -> None:
    identities = IDENTITIES[:6]
    patients = register(world, identities)

    assert write_histories(world, identities) == 6

    world.actor(world.alice)
    for patient in patients:
        encounters = Encounter.objects.filter(patient=patient)
        assert 2 <= encounters.count() <= 10
        assert set(encounters.values_list("author_id", flat=True)) == {world.alice.pk}
        audited = AuditEvent.objects.filter(action="encounter.create", patient_id=patient.pk)
        assert audited.count() == encounters.count()
    problems = Problem.objects.filter(patient__in=patients)
    assert all(p.code and p.label for p in problems)


def test_the_written_history_is_the_planned_one(world: World) -> None:
    identity = IDENTITIES[3]
    (patient,) = register(world, [identity])
    write_histories(world, [identity])
    history = plan(identity)

    world.actor(world.alice)
    written = Encounter.objects.filter(patient=patient).order_by("occurred_at")
    assert [(e.occurred_at, e.reason) for e in written] == [
        (c.occurred_at, c.reason) for c in history.consultations
    ]
    assert Observation.objects.filter(patient=patient).count() == sum(
        len(c.vitals) for c in history.consultations
    ) + len(history.labs)
    assert Immunization.objects.filter(patient=patient).count() == len(history.immunizations)
    assert Allergy.objects.filter(patient=patient).count() == len(history.allergies)
    for prescription in Prescription.objects.filter(patient=patient).select_related("encounter"):
        assert prescription.encounter is not None
        assert prescription.prescribed_on == timezone.localdate(prescription.encounter.occurred_at)


def test_a_second_run_adds_nothing(world: World) -> None:
    identities = IDENTITIES[:3]
    register(world, identities)
    write_histories(world, identities)
    world.actor(world.alice)
    before = Encounter.objects.count(), Observation.objects.count(), Problem.objects.count()

    assert write_histories(world, identities) == 0

    world.actor(world.alice)
    assert (Encounter.objects.count(), Observation.objects.count(), Problem.objects.count()) == (
        before
    )


def test_sensitive_problems_carry_their_label_and_stay_hidden_from_other_gps(
    world: World,
) -> None:
    identity = first_identity(lambda h: any(p.code == "F329" for p in h.problems))
    (patient,) = register(world, [identity])
    write_histories(world, [identity])
    world.actor(world.alice)
    patient.care_team.create(practice=world.practice_a, person=world.bob)

    depression = Problem.objects.get(patient=patient, code="F329")
    assert depression.sensitivity == "mental_health"
    consultations = Encounter.objects.filter(patient=patient).exclude(sensitivity="")
    assert consultations and {c.sensitivity for c in consultations} == {"mental_health"}
    assert not Prescription.objects.filter(encounter__in=consultations, sensitivity="").exists()
    assert not Observation.objects.filter(encounter__in=consultations, sensitivity="").exists()

    # Bob is in the care team but did not write them: the label hides them from him.
    bobs_chart = chart_for(actor=world.actor(world.bob), patient_id=patient.pk)
    assert depression.pk not in {p.pk for p in bobs_chart.problems + bobs_chart.history}
    assert bobs_chart.hidden > 0


def test_the_chart_of_a_demo_patient_opens(world: World) -> None:
    identity = first_identity(lambda h: h.problems and any(c.items for c in h.consultations))
    (patient,) = register(world, [identity])
    write_histories(world, [identity])

    chart = chart_for(actor=world.actor(world.alice), patient_id=patient.pk)

    assert chart.clinical_allowed
    assert chart.encounters
    assert len(chart.problems) + len(chart.history) == len(plan(identity).problems)
    assert chart.hidden == 0  # Alice wrote everything, sensitive or not


def test_drugs_are_free_text_when_the_drug_table_is_empty(world: World) -> None:
    identity = first_identity(lambda h: any(c.items for c in h.consultations))
    register(world, [identity])
    write_histories(world, [identity])

    world.actor(world.alice)
    items = PrescriptionItem.objects.all()
    assert items and all(item.drug_id is None and item.drug_label for item in items)


@pytest.fixture
def doliprane_in_the_drug_table() -> None:
    """The application role may only read the drug table: load one drug as the owner."""
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE carnet_owner")
        try:
            Drug.objects.create(cis="60234100", name="DOLIPRANE 1000 mg, comprimé")
        finally:
            cursor.execute("SET ROLE carnet_app")


def test_drugs_found_by_cis_are_linked(world: World, doliprane_in_the_drug_table: None) -> None:
    identity = first_identity(
        lambda h: any(item.medicine.cis == "60234100" for c in h.consultations for item in c.items)
    )
    register(world, [identity])
    write_histories(world, [identity])

    world.actor(world.alice)
    linked = PrescriptionItem.objects.filter(drug_id="60234100")
    assert linked and {item.drug_label for item in linked} == {"DOLIPRANE 1000 mg, comprimé"}
    assert not PrescriptionItem.objects.filter(
        drug_id=None, drug_label__startswith="DOLIPRANE 1000"
    )


def test_a_demo_adult_shows_weight_and_blood_pressure_over_time(world: World) -> None:
    """The demo shows the vital-sign plots: an adult with three weighed consultations
    or more, blood pressure taken each time."""

    def weighed_three_times(history: demo.History) -> bool:
        signs = [dict(c.vitals) for c in history.consultations]
        return sum(1 for s in signs if "weight" in s and "systolic" in s) >= 3

    identity = first_identity(weighed_three_times)
    register(world, [identity])
    write_histories(world, [identity])
    patient = Patient.objects.get(nir=identity["nir"])

    chart = chart_for(actor=world.actor(world.alice), patient_id=patient.pk)

    plots = {p.key: p for p in chart.vitals.plots}
    assert len(plots["weight"].series[0].points) >= 3
    assert len(plots["bp"].series[0].points) >= 3
    assert any(r.text.endswith("mmHg") for r in chart.vitals.readings)
