"""FHIR history (/fhir/r4/): a patient's identity and a prescription's lines keep their
versions like the other clinical types; the history of a whole type
(``<Type>/_history``) lists every version the reader may see in the practice, newest
first, and never one of another practice, of a patient who excluded the reader, or one
the policy refuses; each read is recorded once."""

# ruff: noqa: F811 - the fixtures of test_fhir_api are imported to be used here

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from core import tenancy
from core.access import choices
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Prescription, PrescriptionItem, Problem
from sharing.fhir.api import HISTORY_TYPES
from tests.fixtures import World
from tests.sharing.test_fhir_api import (  # noqa: F401
    Fhir,
    PaulRecord,
    alice,
    fhir_for,
    paul_record,
    refused,
)


def history(fhir: Fhir, path: str) -> dict[str, Any]:
    bundle = fhir.ok(path)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "history")
    return bundle


def versions(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, versionId) of each version in the Bundle, in its order."""
    return [
        (entry["resource"]["id"], entry["resource"]["meta"]["versionId"])
        for entry in bundle.get("entry", [])
        if entry["resource"]["resourceType"] != "OperationOutcome"
    ]


def fhir_events(world: World) -> list[AuditEvent]:
    tenancy.activate(world.practice_a.pk)
    return list(AuditEvent.objects.filter(channel="fhir").order_by("seq"))


def correct_paul(world: World) -> None:
    """Two identity corrections and a change of GP: Paul is at version 4."""
    actor = world.actor(world.alice)
    services.patient_identity_correct(
        actor=actor,
        access=access_for(world.paul),
        expected_version=1,
        reason="Faute de frappe",
        birth_name="Dupond",
        phone="0601020304",
    )
    services.patient_identity_correct(
        actor=actor,
        access=access_for(world.paul),
        expected_version=2,
        reason="Prénom complet",
        given_names="Paul Henri",
    )
    services.patient_gp_change(
        actor=actor,
        access=access_for(world.paul),
        expected_version=3,
        gp_id=world.bob.pk,
        since=timezone.localdate(),
    )


# --- Patient ----------------------------------------------------------------------------


def test_a_corrected_patient_reads_each_earlier_identity(alice: Fhir, world: World) -> None:
    correct_paul(world)
    paul = world.paul.pk
    current = alice.ok(f"Patient/{paul}")
    assert current["meta"]["versionId"] == "4"
    assert current["generalPractitioner"] == [{"display": "Dr Bob Blanc"}]
    first = alice.ok(f"Patient/{paul}/_history/1")
    assert first["meta"]["versionId"] == "1"
    assert first["name"][0]["family"] == "Dupont"
    assert first["name"][0]["given"] == ["Paul"]
    assert "telecom" not in first
    assert first["generalPractitioner"] == [{"display": "Dr Alice Arnaud"}]
    second = alice.ok(f"Patient/{paul}/_history/2")
    assert (second["name"][0]["family"], second["name"][0]["given"]) == ("Dupond", ["Paul"])
    assert second["telecom"][0]["value"] == "0601020304"
    third = alice.ok(f"Patient/{paul}/_history/3")
    assert third["name"][0]["given"] == ["Paul", "Henri"]
    assert third["generalPractitioner"] == [{"display": "Dr Alice Arnaud"}]
    assert alice.ok(f"Patient/{paul}/_history/4") == current
    refused(alice.get(f"Patient/{paul}/_history/5"), 404)
    refused(alice.get(f"Patient/{paul}/_history/0"), 404)
    bundle = history(alice, f"Patient/{paul}/_history")
    assert versions(bundle) == [(str(paul), v) for v in ("4", "3", "2", "1")]
    assert [e["request"]["method"] for e in bundle["entry"]] == ["PUT", "PUT", "PUT", "POST"]


def test_a_merged_duplicate_reads_as_active_before_its_merge(alice: Fhir, world: World) -> None:
    from tests.factories import PatientFactory

    tenancy.activate(world.practice_a.pk)
    twin = PatientFactory(practice=world.practice_a, gp=world.alice, birth_name="Dupont")
    services.patient_merge(
        actor=world.actor(world.alice), keep=world.paul, duplicate=twin, reason="Doublon"
    )
    assert alice.ok(f"Patient/{twin.pk}")["active"] is False
    assert alice.ok(f"Patient/{twin.pk}/_history/1")["active"] is True
    assert versions(history(alice, f"Patient/{twin.pk}/_history")) == [
        (str(twin.pk), "2"),
        (str(twin.pk), "1"),
    ]


def test_patient_history_and_version_reads_follow_the_identity_rules(world: World) -> None:
    correct_paul(world)
    paul = world.paul.pk
    # Another practice: not found.
    charlie = fhir_for(world, world.charlie, world.practice_b)
    refused(charlie.get(f"Patient/{paul}/_history"), 404)
    refused(charlie.get(f"Patient/{paul}/_history/1"), 404)
    # A patient who excluded a colleague from the whole record: refused.
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=paul,
        person_id=world.sam.pk,
        source="formulaire signé n° 7",
    )
    sam = fhir_for(world, world.sam)
    refused(sam.get(f"Patient/{paul}/_history"), 403)
    refused(sam.get(f"Patient/{paul}/_history/1"), 403)
    assert "Dupont" not in str(sam.ok("Patient/_history"))


# --- MedicationRequest ------------------------------------------------------------------


def test_a_corrected_prescription_reads_its_lines_as_they_were(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    prescription = Prescription.objects.get(pk=paul_record.prescription.pk)
    services.entry_update(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        entry=prescription,
        expected_version=1,
        reason="Pas de renouvellement",
        renewals=0,
        note="À revoir dans un mois",
    )
    tenancy.activate(world.practice_a.pk)
    line = PrescriptionItem.objects.filter(prescription=prescription).order_by("position").first()
    assert line is not None
    current = alice.ok(f"MedicationRequest/{line.pk}")
    assert current["meta"]["versionId"] == "2"
    assert current["dispenseRequest"]["numberOfRepeatsAllowed"] == 0
    first = alice.ok(f"MedicationRequest/{line.pk}/_history/1")
    assert first["meta"]["versionId"] == "1"
    assert first["dispenseRequest"]["numberOfRepeatsAllowed"] == 2
    assert first["medicationCodeableConcept"] == current["medicationCodeableConcept"]
    assert alice.ok(f"MedicationRequest/{line.pk}/_history/2") == current
    refused(alice.get(f"MedicationRequest/{line.pk}/_history/3"), 404)
    bundle = history(alice, f"MedicationRequest/{line.pk}/_history")
    assert versions(bundle) == [(str(line.pk), "2"), (str(line.pk), "1")]
    # The history of the type: both lines, each in both versions, newest first.
    lines = list(
        PrescriptionItem.objects.filter(prescription=prescription).order_by("position", "pk")
    )
    of_type = history(alice, "MedicationRequest/_history")
    assert versions(of_type) == [(str(item.pk), "2") for item in lines] + [
        (str(item.pk), "1") for item in lines
    ]


def test_a_colleague_outside_the_care_team_reads_no_prescription_version(
    world: World, paul_record: PaulRecord
) -> None:
    tenancy.activate(world.practice_a.pk)
    line = PrescriptionItem.objects.filter(prescription=paul_record.prescription).first()
    assert line is not None
    bob = fhir_for(world, world.bob)
    refused(bob.get(f"MedicationRequest/{line.pk}/_history"), 403)
    refused(bob.get(f"MedicationRequest/{line.pk}/_history/1"), 403)
    assert versions(history(bob, "MedicationRequest/_history")) == []


# --- the history of a type ----------------------------------------------------------------


def test_a_types_history_lists_every_version_newest_first_and_pages(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    record = paul_record
    services.entry_update(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        entry=record.diabetes,
        expected_version=1,
        reason="Code corrigé",
        code="E11.8",
    )
    bundle = history(alice, "Condition/_history")
    diabetes, hypertension, depression = (
        str(record.diabetes.pk),
        str(record.hypertension.pk),
        str(record.depression.pk),
    )
    assert versions(bundle) == [
        (diabetes, "2"),
        (depression, "1"),
        (hypertension, "1"),
        (diabetes, "1"),
    ]
    earlier = {
        e["resource"]["meta"]["versionId"]: e
        for e in bundle["entry"]
        if e["resource"]["id"] == diabetes
    }
    assert earlier["1"]["resource"]["code"]["coding"][0]["code"] == "E11.9"
    assert earlier["2"]["resource"]["code"]["coding"][0]["code"] == "E11.8"
    assert (earlier["1"]["request"]["method"], earlier["1"]["response"]["status"]) == (
        "POST",
        "201",
    )
    written = [e["response"]["lastModified"] for e in bundle["entry"]]
    assert written == sorted(written, reverse=True)
    # _count and the next link page through the same versions.
    first = history(alice, "Condition/_history?_count=3")
    assert versions(first) == versions(bundle)[:3]
    [next_link] = [link["url"] for link in first["link"] if link["relation"] == "next"]
    second = history(alice, next_link)
    assert versions(second) == versions(bundle)[3:]
    assert not [link for link in second["link"] if link["relation"] == "next"]
    # _since: the versions written from then on.
    tenancy.activate(world.practice_a.pk)
    corrected = (
        Problem.objects.get(pk=record.diabetes.pk).updated_at.isoformat().replace("+", "%2B")
    )
    # The versions written from that second on: the correction, and whichever earlier
    # versions were written in the same second (the test writes them all within a few).
    since = datetime.fromisoformat(corrected.replace("%2B", "+")[:19] + "+00:00")
    expected = [
        (e["resource"]["id"], e["resource"]["meta"]["versionId"])
        for e in bundle["entry"]
        if datetime.fromisoformat(e["response"]["lastModified"].replace("Z", "+00:00")) >= since
    ]
    assert (diabetes, "2") in expected
    assert versions(history(alice, f"Condition/_history?_since={corrected[:19]}Z")) == expected
    assert versions(history(alice, "Condition/_history?_since=2999-01-01")) == []
    refused(alice.get("Condition/_history?_since=ge2020-01-01"), 400)
    refused(alice.get("Condition/_history?_since=2020-02-30"), 400)
    refused(alice.get("Condition/_history?_count=x"), 400)


def test_a_types_history_never_holds_another_practices_resource(
    world: World, paul_record: PaulRecord
) -> None:
    charlie_actor = world.actor(world.charlie, world.practice_b)
    asthma = services.entry_create(
        actor=charlie_actor, access=access_for(world.zoe), model=Problem, label="Asthme"
    )
    alice = fhir_for(world, world.alice)
    assert str(asthma.pk) not in {i for i, _v in versions(history(alice, "Condition/_history"))}
    assert str(world.zoe.pk) not in {i for i, _v in versions(history(alice, "Patient/_history"))}
    charlie = fhir_for(world, world.charlie, world.practice_b)
    assert versions(history(charlie, "Condition/_history")) == [(str(asthma.pk), "1")]
    assert versions(history(charlie, "Patient/_history")) == [(str(world.zoe.pk), "1")]


def test_a_types_history_leaves_out_what_the_reader_may_not_see(
    world: World, paul_record: PaulRecord
) -> None:
    record = paul_record
    alice_actor = world.actor(world.alice)
    # Another practitioner, outside the care team: no clinical version of Paul.
    bob = fhir_for(world, world.bob)
    assert versions(history(bob, "Condition/_history")) == []
    assert versions(history(bob, "Observation/_history")) == []
    # In the care team: every version but the sensitive one, nor the one Paul hid.
    services.care_team_add(actor=alice_actor, patient=world.paul, person_id=world.bob.pk)
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.bob.pk,
        source="formulaire signé n° 5",
        entry_type="problem",
        entry_id=record.hypertension.pk,
    )
    assert versions(history(bob, "Condition/_history")) == [(str(record.diabetes.pk), "1")]
    assert "dépressif" not in str(history(bob, "Condition/_history"))
    # A secretary: identities, never a clinical version.
    sam = fhir_for(world, world.sam)
    assert versions(history(sam, "Patient/_history")) == [(str(world.paul.pk), "1")]
    for resource_type in HISTORY_TYPES:
        if resource_type != "Patient":
            assert versions(history(sam, f"{resource_type}/_history")) == [], resource_type
    # A patient who excluded Bob from the whole record: nothing of theirs, even the
    # identity.
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.bob.pk,
        source="formulaire signé n° 6",
    )
    assert versions(history(bob, "Condition/_history")) == []
    assert versions(history(bob, "Patient/_history")) == []


def test_a_sensitive_earlier_version_is_left_out_of_the_types_history(
    world: World, paul_record: PaulRecord
) -> None:
    actor = world.actor(world.alice)
    services.care_team_add(actor=actor, patient=world.paul, person_id=world.bob.pk)
    depression = paul_record.depression
    services.entry_update(
        actor=actor,
        access=access_for(world.paul),
        entry=depression,
        expected_version=1,
        reason="Pas d'étiquette",
        sensitivity="",
        label="Fatigue",
    )
    bob = fhir_for(world, world.bob)
    bundle = history(bob, "Condition/_history")
    assert (str(depression.pk), "2") in versions(bundle)
    assert (str(depression.pk), "1") not in versions(bundle)
    assert "dépressif" not in str(bundle)


def test_every_history_read_is_recorded_once(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    correct_paul(world)
    tenancy.activate(world.practice_a.pk)
    from tests.factories import PatientFactory

    other = PatientFactory(practice=world.practice_a, gp=world.alice, birth_name="Martin")
    services.entry_create(
        actor=world.actor(world.alice), access=access_for(other), model=Problem, label="Asthme"
    )
    before = len(fhir_events(world))
    paul = world.paul.pk
    alice.ok(f"Patient/{paul}/_history")
    alice.ok(f"Patient/{paul}/_history/2")
    alice.ok(f"Condition/{paul_record.diabetes.pk}/_history")
    alice.ok(f"Condition/{paul_record.diabetes.pk}/_history/1")
    alice.ok("Condition/_history")
    alice.ok("Patient/_history?_count=1")
    events = fhir_events(world)[before:]
    read = [(e.action, e.patient_id, e.category) for e in events]
    assert read[:4] == [
        ("patient.read", paul, "identity"),
        ("patient.read", paul, "identity"),
        ("patient.read", paul, "clinical"),
        ("patient.read", paul, "clinical"),
    ]
    # The type's history: one event per patient whose versions it returned.
    assert sorted(read[4:6]) == sorted(
        [("patient.read", paul, "clinical"), ("patient.read", other.pk, "clinical")]
    )
    returned = {e.patient_id: e.details for e in events[4:6]}
    assert returned[paul]["resource"] == "Condition/_history"
    assert returned[paul]["returned"] == 3
    assert returned[other.pk]["returned"] == 1
    # A page of one version (the newest: the other patient's registration): only that
    # patient is read.
    assert read[6:] == [("patient.read", other.pk, "identity")]
    assert events[6].details == {"view": "fhir", "resource": "Patient/_history", "returned": 1}


def test_the_capability_statement_declares_the_histories_served(alice: Fhir, db: None) -> None:
    statement = alice.ok("metadata")
    declared = {
        resource["type"]: {i["code"] for i in resource["interaction"]}
        for resource in statement["rest"][0]["resource"]
    }
    for resource_type, interactions in declared.items():
        history = {"vread", "history-instance", "history-type"}
        if resource_type in ("Consent", "AuditEvent"):
            assert not interactions & history, resource_type
        else:
            assert history <= interactions, resource_type
    assert set(HISTORY_TYPES) == set(declared) - {"Consent", "AuditEvent"}


def test_a_type_without_history_answers_404_on_its_history(alice: Fhir, world: World) -> None:
    refused(alice.get("Consent/_history"), 404)
    refused(alice.get("AuditEvent/_history"), 404)


def test_a_types_history_decides_on_its_patients_together(world: World) -> None:
    """The patients of a page are decided on in one round trip, not one by one, and
    their entries read together: a history over 40 patients costs a few queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PatientFactory

    tenancy.activate(world.practice_a.pk)
    actor = world.actor(world.alice)
    for n in range(40):
        patient = PatientFactory(practice=world.practice_a, gp=world.alice, birth_name=f"P{n}")
        services.entry_create(
            actor=actor, access=access_for(patient), model=Problem, label=f"Problème {n}"
        )
    sam = fhir_for(world, world.sam)
    with CaptureQueriesContext(connection) as queries:
        assert versions(history(sam, "Condition/_history")) == []
    assert len(queries) < 20, [q["sql"][:80] for q in queries]
    # A practitioner's page of 40 entries: their patients, entries and revisions
    # together too (the audit, one event per patient, is what grows).
    alice = fhir_for(world, world.alice)
    with CaptureQueriesContext(connection) as queries:
        assert len(versions(history(alice, "Condition/_history?_count=40"))) == 40
    reads = [q for q in queries if "audit" not in q["sql"].lower()]
    assert len(reads) < 25, [q["sql"][:80] for q in reads]
