"""FHIR R4 search as the specification says it (/fhir/r4/): the parameters every type
takes (_id, _lastUpdated, _sort, _summary, _elements), the Patient's names, gender and
identifier, date prefixes, codes, categories and statuses, lenient and strict handling,
_include and _revinclude through the policy, $everything, history and version reads,
ETags, identity in French FHIR terms, and bad input refused with a clear 400."""

# ruff: noqa: F811 - the fixtures of test_fhir_api are imported to be used here

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from core import tenancy
from core.access import choices
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Observation, Patient, Problem
from sharing.fhir import render as fhir_render
from tests.factories import PatientFactory
from tests.fixtures import World
from tests.sharing.test_fhir_api import (  # noqa: F401
    Fhir,
    PaulRecord,
    alice,
    fhir_for,
    ids,
    paul_record,
    refused,
    validated,
)


def matches(bundle: dict[str, Any], mode: str = "match") -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def conditions(resources: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in resources if r["resourceType"] == "Condition"}


def outcome_of(bundle: dict[str, Any]) -> str:
    [resource] = matches(bundle, "outcome") or [{"issue": []}]
    return " ".join(issue["diagnostics"] for issue in resource["issue"])


@pytest.fixture
def more_patients(world: World) -> dict[str, Patient]:
    """Patients of practice A whose names test the string rules."""
    tenancy.activate(world.practice_a.pk)

    def register(**fields: Any) -> Patient:
        return PatientFactory(practice=world.practice_a, gp=world.alice, **fields)

    patients = {
        "helene": register(
            birth_name="Lefèvre",
            used_name="Martin-Dubois",
            given_names="Hélène Marie",
            sex="F",
            birth_date=date(1990, 5, 17),
        ),
        "jean": register(
            birth_name="Dupontel",
            given_names="Jean-Marc",
            sex="M",
            birth_date=date(1955, 1, 2),
        ),
    }
    tenancy.activate(None)
    return patients


# --- Patient ----------------------------------------------------------------------------


def test_patients_are_found_by_family_and_given_names_as_fhir_strings(
    alice: Fhir, world: World, more_patients: dict[str, Patient]
) -> None:
    paul, helene, jean = (
        str(world.paul.pk),
        str(more_patients["helene"].pk),
        str(more_patients["jean"].pk),
    )
    # family: the start of the birth or used name, or of one of its words; no accents,
    # no case.
    assert ids(alice.search("Patient?family=dupont")) == {paul, jean}
    assert ids(alice.search("Patient?family=LEFEVRE")) == {helene}
    assert ids(alice.search("Patient?family=dubois")) == {helene}
    assert ids(alice.search("Patient?family:exact=Dupont")) == {paul}
    assert ids(alice.search("Patient?family:exact=dupont")) == set()  # exact: as typed
    assert ids(alice.search("Patient?family:contains=ponte")) == {jean}
    assert ids(alice.search("Patient?family=upont")) == set()  # not a start
    # given: any of the first names; name: any part of the name.
    assert ids(alice.search("Patient?given=helene")) == {helene}
    assert ids(alice.search("Patient?given=marc")) == {jean}
    assert ids(alice.search("Patient?given=marie&family=martin")) == {helene}
    assert ids(alice.search("Patient?name=marie")) == {helene}
    assert ids(alice.search("Patient?name=paul,jean")) == {paul, jean}  # a comma: or
    assert ids(alice.search("Patient?name=dupont&name=jean")) == {jean}  # repeated: and
    # the others.
    assert ids(alice.search("Patient?gender=female")) == {helene} | (
        {paul} if world.paul.sex == "F" else set()
    )
    assert ids(alice.search("Patient?gender=http://hl7.org/fhir/administrative-gender|male")) >= {
        jean
    }
    assert ids(alice.search(f"Patient?_id={helene},{jean},abc")) == {helene, jean}
    assert ids(alice.search("Patient?birthdate=1990-05")) == {helene}
    assert ids(alice.search("Patient?birthdate=lt1956&family=dupont")) == {jean}
    assert ids(alice.search("Patient?birthdate=ne1990-05-17&family=lefevre")) == set()
    assert ids(alice.search("Patient?birthdate=eb1956-01-01&family=dupont")) == {jean}
    assert ids(alice.search("Patient?birthdate=sa1990-05-16&given=helene")) == {helene}
    assert ids(alice.search("Patient?birthdate=ap1990-05-20&given=helene")) == {helene}
    assert ids(alice.search("Patient?family=zola")) == set()  # practice B's patient


def test_patients_sort_and_last_updated(
    alice: Fhir, world: World, more_patients: dict[str, Patient]
) -> None:
    by_birth = [p["id"] for p in alice.search("Patient?_sort=birthdate")]
    born = {p.pk: p.birth_date for p in Patient.objects.all()}
    assert [born[int(i)] for i in by_birth] == sorted(born[int(i)] for i in by_birth)
    newest_first = [p["id"] for p in alice.search("Patient?_sort=-birthdate")]
    assert newest_first == list(reversed(by_birth))
    by_family = [p["name"][0]["family"] for p in alice.search("Patient?_sort=family")]
    assert by_family == sorted(by_family)
    later = (timezone.now() + timedelta(minutes=5)).isoformat(timespec="seconds")
    assert alice.search(f"Patient?_lastUpdated=gt{later.replace('+', '%2B')}") == []
    assert len(alice.search("Patient?_lastUpdated=ge2000")) == 3


def test_a_patient_carries_the_nir_and_a_provisional_identity_as_fr_core_says(
    alice: Fhir, world: World
) -> None:
    patient = alice.ok(f"Patient/{world.paul.pk}")
    [nir] = patient["identifier"]
    assert nir["system"] == "urn:oid:1.2.250.1.213.1.4.8"
    assert nir["value"] == world.paul.nir
    assert nir["type"]["coding"][0]["code"] == "NH"
    [reliability] = [
        e for e in patient["extension"] if e["url"] == fhir_render.FR_IDENTITY_RELIABILITY
    ]
    [status] = reliability["extension"]
    assert status["url"] == "identityStatus"
    assert status["valueCoding"]["code"] == "PROV"  # unverified until qualified
    assert patient["meta"]["versionId"] == str(world.paul.version)


# --- clinical searches ------------------------------------------------------------------


def test_summary_count_gives_the_total_of_the_search(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = world.paul.pk
    time.sleep(1.01)  # the access log grows with every read: count what came before
    cut = timezone.localtime().isoformat(timespec="seconds").replace("+", "%2B")
    for search in (
        f"Condition?patient={paul}",
        f"Condition?patient={paul}&clinical-status=active",
        f"Observation?patient={paul}",
        f"Observation?patient={paul}&category=vital-signs",
        "Patient?family=dupont",
        f"AuditEvent?patient={paul}&date=lt{cut}",
    ):
        full = alice.ok(search)
        counted = alice.ok(f"{search}&_summary=count")
        assert counted["total"] == full["total"] == len(matches(full)), search
        assert "entry" not in counted


def test_summary_and_elements_give_a_subset_marked_as_such(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = world.paul.pk
    summary = alice.ok(f"Condition?patient={paul}&_summary=true")
    for condition in matches(summary):
        assert "recorder" in condition and "category" not in condition
        assert {"code": "SUBSETTED"}.items() <= condition["meta"]["tag"][0].items()
    elements = alice.ok(f"Observation?patient={paul}&_elements=code,valueQuantity")
    for observation in matches(elements):
        assert set(observation) <= {
            "resourceType",
            "id",
            "meta",
            "status",
            "code",
            "valueQuantity",
        }
        assert "status" in observation  # required: always given
    full = alice.ok(f"Observation?patient={paul}&_summary=false")
    assert all("performer" in o for o in matches(full))
    refused(alice.get(f"Observation?patient={paul}&_summary=text"), 400)


def test_clinical_types_filter_on_category_status_and_codes(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    record, paul = paul_record, world.paul.pk
    diabetes, hypertension, depression = (
        str(record.diabetes.pk),
        str(record.hypertension.pk),
        str(record.depression.pk),
    )
    conditions = f"Condition?patient={paul}"
    assert ids(alice.search(f"{conditions}&clinical-status=active")) == {diabetes, depression}
    assert ids(alice.search(f"{conditions}&clinical-status=resolved")) == {hypertension}
    assert ids(alice.search(f"{conditions}&clinical-status=inactive")) == {hypertension}
    assert len(alice.search(f"{conditions}&category=problem-list-item")) == 3
    assert alice.search(f"{conditions}&category=encounter-diagnosis") == []
    observations = f"Observation?patient={paul}"
    vitals = alice.search(f"{observations}&category=vital-signs")
    assert {o["code"]["coding"][0]["code"] for o in vitals} == {"29463-7", "8480-6"}
    exams = alice.search(f"{observations}&category=exam")
    assert ids(exams) == {str(record.note.pk)}
    assert all(o["category"][0]["coding"][0]["code"] == "exam" for o in exams)
    assert ids(alice.search(f"AllergyIntolerance?patient={paul}&clinical-status=active")) == {
        str(record.allergy.pk)
    }
    assert alice.search(f"MedicationRequest?patient={paul}&code=99999999") == []
    assert alice.search(f"Immunization?patient={paul}&vaccine-code=99999999") == []
    assert len(alice.search(f"{conditions}&_id={diabetes},{hypertension}")) == 2


def test_date_prefixes_ne_sa_eb_and_ap(alice: Fhir, world: World, paul_record: PaulRecord) -> None:
    record, paul = paul_record, world.paul.pk
    diabetes, hypertension = str(record.diabetes.pk), str(record.hypertension.pk)
    depression = str(record.depression.pk)
    conditions = f"Condition?patient={paul}"
    assert ids(alice.search(f"{conditions}&date=ne2020-03-01")) == {hypertension, depression}
    assert ids(alice.search(f"{conditions}&date=sa2020")) == {depression}
    assert ids(alice.search(f"{conditions}&date=eb2020")) == {hypertension}
    assert ids(alice.search(f"{conditions}&date=ap2020-03-05")) == {diabetes}


def test_sort_by_date_either_way_and_by_last_change(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = world.paul.pk
    oldest_first = [
        c["onsetDateTime"] for c in alice.search(f"Condition?patient={paul}&_sort=date")
    ]
    assert oldest_first == sorted(oldest_first)
    newest_first = [
        c["onsetDateTime"] for c in alice.search(f"Condition?patient={paul}&_sort=-date")
    ]
    assert newest_first == sorted(newest_first, reverse=True)
    changed = alice.search(f"Observation?patient={paul}&_sort=-_lastUpdated")
    stamps = [o["meta"]["lastUpdated"] for o in changed]
    assert stamps == sorted(stamps, reverse=True)
    # An unknown sort key: ignored and said (lenient), refused when strict.
    bundle = alice.ok(f"Condition?patient={paul}&_sort=colour")
    assert "colour" in outcome_of(bundle)
    strict = alice.get(f"Condition?patient={paul}&_sort=colour", HTTP_PREFER="handling=strict")
    refused(strict, 400)


# --- handling ---------------------------------------------------------------------------


def test_unknown_parameters_are_reported_or_refused_when_strict(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = world.paul.pk
    lenient = alice.ok(f"Observation?patient={paul}&colour=red&_include=Observation:performer")
    assert "colour" in outcome_of(lenient) and "performer" in outcome_of(lenient)
    assert lenient["total"] == alice.ok(f"Observation?patient={paul}")["total"]
    for prefer in ("handling=strict", "return=minimal, handling=strict"):
        refused(alice.get(f"Observation?patient={paul}&colour=red", HTTP_PREFER=prefer), 400)
    refused(
        alice.get(
            f"Observation?patient={paul}&_include=Observation:performer",
            HTTP_PREFER="handling=strict",
        ),
        400,
    )
    # A modifier the server does not know is refused always: ignoring it would widen.
    refused(alice.get("Patient?family:phonetic=dupont"), 400)
    refused(alice.get(f"Condition?patient={paul}&code:text=diabete"), 400)


@pytest.mark.parametrize(
    "query",
    [
        "Patient?family=%00dupont",
        "Patient?family=dup%ED%A0%80ont",  # a lone surrogate, UTF-8 encoded
        "Patient?given=" + "a" * 10_000,
        "Patient?birthdate=xx2020",
        "Patient?birthdate=2020-02-30",
        "Patient?birthdate=99999",
        "Patient?_lastUpdated=demain",
        "Patient?_count=-1",
        "Patient?_count=1e9",
        "Patient?family=a&family=b&" + "&".join(f"given={n}" for n in range(70)),
        "Condition?patient=1%00",
        "Patient?_summary=%00",
        "Patient/1/$everything?start=2020-13",
    ],
)
def test_bad_input_is_a_clear_400_in_the_readers_language(
    alice: Fhir, world: World, query: str
) -> None:
    english = refused(alice.get(query, HTTP_ACCEPT_LANGUAGE="en"), 400)["issue"][0]
    french = refused(alice.get(query, HTTP_ACCEPT_LANGUAGE="fr"), 400)["issue"][0]
    assert english["code"] == french["code"] == "invalid"
    assert english["diagnostics"] and french["diagnostics"]
    assert english["diagnostics"] != french["diagnostics"]  # both languages have it


# --- _include, _revinclude --------------------------------------------------------------


def test_include_brings_the_patient_of_the_conditions(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = str(world.paul.pk)
    for include in ("Condition:patient", "Condition:subject", "Condition:subject:Patient"):
        bundle = alice.ok(f"Condition?patient={paul}&_include={include}")
        assert ids(matches(bundle, "include")) == {paul}
        assert all(r["resourceType"] == "Condition" for r in matches(bundle))
    # Never with a count only.
    assert "entry" not in alice.ok(f"Condition?patient={paul}&_include=Condition:patient&_count=0")


def test_revinclude_brings_only_what_the_reader_may_see(
    world: World, paul_record: PaulRecord, more_patients: dict[str, Patient]
) -> None:
    record, paul = paul_record, world.paul.pk
    actor = world.actor(world.alice)
    services.care_team_add(actor=actor, patient=world.paul, person_id=world.bob.pk)
    choices.restriction_add(
        actor=actor,
        patient_id=paul,
        person_id=world.bob.pk,
        source="formulaire signé n° 5",
        entry_type="problem",
        entry_id=record.hypertension.pk,
    )
    # Alice sees every condition of Paul.
    alice = fhir_for(world, world.alice)
    bundle = alice.ok("Patient?family=dupont&_revinclude=Condition:patient")
    included = matches(bundle, "include")
    assert conditions(included) == {
        str(record.diabetes.pk),
        str(record.hypertension.pk),
        str(record.depression.pk),
    }
    # Bob is in Paul's care team: not the mental-health one, nor the one Paul hid from him.
    bob = fhir_for(world, world.bob)
    bundle = bob.ok(
        "Patient?family=dupont&_revinclude=Condition:patient&_revinclude=Observation:subject"
    )
    included = matches(bundle, "include")
    assert str(record.diabetes.pk) in conditions(included)
    assert str(record.depression.pk) not in conditions(included)
    assert str(record.hypertension.pk) not in conditions(included)
    assert "dépressif" not in str(bundle) and "HTA" not in str(bundle)
    assert {r["resourceType"] for r in included} == {"Condition", "Observation"}
    # Sam (secretary) finds the patients, but none of their clinical entries; the refusal
    # is audited.
    tenancy.activate(world.practice_a.pk)
    before = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).count()
    sam = fhir_for(world, world.sam)
    bundle = sam.ok("Patient?family=dupont&_revinclude=Condition:patient")
    assert matches(bundle) and not matches(bundle, "include")
    tenancy.activate(world.practice_a.pk)
    after = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).count()
    assert after > before


# --- $everything ------------------------------------------------------------------------


def test_everything_is_the_patient_and_what_the_reader_may_see(
    world: World, paul_record: PaulRecord
) -> None:
    record, paul = paul_record, world.paul.pk
    alice = fhir_for(world, world.alice)
    bundle = alice.ok(f"Patient/{paul}/$everything")
    kinds = {r["resourceType"] for r in matches(bundle)}
    assert kinds >= {
        "Patient",
        "Encounter",
        "Condition",
        "AllergyIntolerance",
        "MedicationRequest",
        "Immunization",
        "Observation",
        "DocumentReference",
        "Consent",
    }
    assert bundle["total"] == len(matches(bundle))
    assert str(record.depression.pk) in conditions(matches(bundle))
    only = alice.ok(f"Patient/{paul}/$everything?_type=Condition,Patient")
    assert {r["resourceType"] for r in matches(only)} == {"Condition", "Patient"}
    window = alice.ok(f"Patient/{paul}/$everything?_type=Condition&start=2020-01-01&end=2021")
    assert conditions(matches(window)) == {str(record.diabetes.pk)}
    services.care_team_add(
        actor=world.actor(world.alice), patient=world.paul, person_id=world.bob.pk
    )
    bob = fhir_for(world, world.bob)
    bundle = bob.ok(f"Patient/{paul}/$everything")
    assert str(record.depression.pk) not in conditions(matches(bundle))
    assert "dépressif" not in str(bundle)
    refused(bob.get(f"Patient/{world.zoe.pk}/$everything"), 404)


# --- history, versions, ETag ------------------------------------------------------------


def test_a_corrected_entry_keeps_its_versions(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    record = paul_record
    actor = world.actor(world.alice)
    services.entry_update(
        actor=actor,
        access=access_for(world.paul),
        entry=record.diabetes,
        expected_version=1,
        reason="Code corrigé",
        label="Diabète de type 2 insulino-requérant",
        code="E11.8",
    )
    current = alice.ok(f"Condition/{record.diabetes.pk}")
    assert current["meta"]["versionId"] == "2"
    assert current["code"]["coding"][0]["code"] == "E11.8"
    first = alice.ok(f"Condition/{record.diabetes.pk}/_history/1")
    assert first["meta"]["versionId"] == "1"
    assert first["code"]["text"] == "Diabète de type 2"
    assert first["code"]["coding"][0]["code"] == "E11.9"
    assert first["onsetDateTime"] == "2020-03-01"
    assert alice.ok(f"Condition/{record.diabetes.pk}/_history/2") == current
    refused(alice.get(f"Condition/{record.diabetes.pk}/_history/3"), 404)
    refused(alice.get(f"Condition/{record.diabetes.pk}/_history/x"), 404)
    history = alice.ok(f"Condition/{record.diabetes.pk}/_history")
    assert history["type"] == "history"
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]


def test_an_older_sensitive_version_is_refused_to_a_colleague(
    world: World, paul_record: PaulRecord
) -> None:
    """The label was taken off: the current version is for Bob to see, the first one
    (labelled) is not."""
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
    assert bob.ok(f"Condition/{depression.pk}")["code"]["text"] == "Fatigue"
    refused(bob.get(f"Condition/{depression.pk}/_history/1"), 403)
    history = bob.ok(f"Condition/{depression.pk}/_history")
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2"]
    assert "dépressif" not in str(history)


def test_reads_answer_an_etag_and_304_when_unchanged(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    path = f"Observation/{paul_record.note.pk}"
    response = alice.get(path)
    assert response["ETag"] == 'W/"1"'
    assert response["Last-Modified"]
    unchanged = alice.get(path, HTTP_IF_NONE_MATCH='W/"1"')
    assert unchanged.status_code == 304 and not unchanged.content
    assert alice.get(path, HTTP_IF_NONE_MATCH='W/"0"').status_code == 200
    services.entry_update(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        entry=Observation.objects.get(pk=paul_record.note.pk),
        expected_version=1,
        reason="Précision",
        value_text="Rétinopathie débutante",
    )
    changed = alice.get(path, HTTP_IF_NONE_MATCH='W/"1"')
    assert changed.status_code == 200 and changed["ETag"] == 'W/"2"'
    patient = alice.get(f"Patient/{world.paul.pk}")
    assert (
        alice.get(f"Patient/{world.paul.pk}", HTTP_IF_NONE_MATCH=patient["ETag"]).status_code == 304
    )
    # The read behind a 304 went through the policy and the audit trail all the same.
    tenancy.activate(world.practice_a.pk)
    assert AuditEvent.objects.filter(
        action="patient.read", actor_id=world.alice.pk, channel="fhir"
    ).exists()


def test_problem_model_is_what_condition_history_reads() -> None:
    """History is served for the types whose entries keep it (EntryRevision)."""
    from records.selectors import entry_rows
    from sharing.fhir.api import CLINICAL_KINDS, HISTORY_TYPES

    assert entry_rows(CLINICAL_KINDS["Condition"].source).model is Problem
    assert set(HISTORY_TYPES) == {"Patient", *CLINICAL_KINDS}


def test_every_clinical_type_reads_a_kind_the_record_offers_and_decides_on_an_entry() -> None:
    """Each FHIR type names its rows by a kind of records.selectors.entry_rows; the
    policy decides on an entry with a type (a MedicationRequest: its prescription)."""
    from records.selectors import entry_type
    from records.selectors.entries import ENTRY_MODELS
    from sharing.fhir.api import CLINICAL_KINDS

    for kind in CLINICAL_KINDS.values():
        assert kind.source in ENTRY_MODELS, kind.resource_type
        assert entry_type(kind.policy_source), kind.resource_type
    assert CLINICAL_KINDS["MedicationRequest"].policy_source == "prescription"
