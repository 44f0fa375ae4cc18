"""The FHIR R4 API (/fhir/r4/): every resource served validates with fhir.resources
(R4B models), searches filter and page, and the records access policy applies exactly
as in the REST API — with one audit event per read, on the "fhir" channel."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given
from hypothesis import strategies as st

from core import tenancy
from core.access import choices
from core.access.models import SharingConsent
from core.accounts import services as accounts
from core.accounts.models import Person
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import (
    Allergy,
    Document,
    Encounter,
    Immunization,
    Observation,
    Prescription,
    PrescriptionItem,
    Problem,
)
from sharing.fhir import render as fhir_render
from sharing.fhir.api import (
    CLINICAL_KINDS,
    RESOURCE_TYPES,
    SEARCH_PARAMS,
    InvalidSearch,
    date_filter,
)
from tests.fixtures import World

FHIR_JSON = "application/fhir+json"


def no_empty_elements(value: Any, where: str = "") -> None:
    """FHIR JSON has no empty strings, arrays or objects (the models accept them)."""
    assert value not in ("", [], {}, None), f"empty element at {where or 'the root'}"
    if isinstance(value, dict):
        for key, item in value.items():
            no_empty_elements(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            no_empty_elements(item, f"{where}[{index}]")


def validated(body: dict[str, Any]) -> dict[str, Any]:
    """Parse the resource with its fhir.resources R4B model, and every resource a
    Bundle holds with its own model. Raises if anything does not validate."""
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)
    no_empty_elements(body)
    for entry in body.get("entry", []):
        validated(entry["resource"])
    return body


class Fhir:
    """A FHIR client for one person's token, in the practice the token is bound to."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.auth = client, f"Bearer {token}"

    def get(self, path: str, **headers: str) -> Any:
        url = path if path.startswith("http") else f"/fhir/r4/{path}"
        headers = {"HTTP_ACCEPT": FHIR_JSON, **headers}
        return self.client.get(url, HTTP_AUTHORIZATION=self.auth, **headers)

    def ok(self, path: str) -> dict[str, Any]:
        response = self.get(path)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith(FHIR_JSON)
        return validated(response.json())

    def search(self, path: str) -> list[dict[str, Any]]:
        bundle = self.ok(path)
        assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
        return [
            entry["resource"]
            for entry in bundle.get("entry", [])
            if entry["search"]["mode"] == "match"
        ]


def fhir_for(world: World, person: Any, practice: Any = None) -> Fhir:
    practice = practice or world.practice_a
    tenancy.activate(practice.pk, person.pk)
    _token, plaintext = accounts.api_token_create(person=person, practice=practice, name="fhir")
    return Fhir(Client(), plaintext)


def refused(response: Any, status: int) -> dict[str, Any]:
    """An error is an OperationOutcome with the HTTP status."""
    assert response.status_code == status, response.content
    body = validated(response.json())
    assert body["resourceType"] == "OperationOutcome"
    return body


@dataclass
class PaulRecord:
    encounter: Encounter
    diabetes: Problem
    hypertension: Problem
    depression: Problem  # sensitive: mental health
    allergy: Allergy
    prescription: Prescription
    immunization: Immunization
    note: Observation
    letter: Document
    consent_id: int


@pytest.fixture
def paul_record(world: World) -> PaulRecord:
    """Alice (GP of record) writes one entry of every kind in Paul's record."""
    actor = world.actor(world.alice)
    access = access_for(world.paul)
    encounter = services.consultation_record(
        actor=actor,
        access=access,
        reason="Suivi diabète",
        subjective="Va bien",
        vitals={"weight": Decimal("72.5"), "systolic": Decimal("128")},
    )
    diabetes = services.entry_create(
        actor=actor,
        access=access,
        model=Problem,
        label="Diabète de type 2",
        code="E119",
        onset=date(2020, 3, 1),
        long_term_condition=True,
    )
    hypertension = services.entry_create(
        actor=actor,
        access=access,
        model=Problem,
        label="HTA",
        code="I10",
        onset=date(2015, 6, 1),
        clinical_status="resolved",
        resolved_on=date(2019, 1, 1),
    )
    depression = services.entry_create(
        actor=actor,
        access=access,
        model=Problem,
        label="Épisode dépressif",
        code="F32",
        onset=date(2024, 1, 10),
        sensitivity="mental_health",
    )
    allergy = services.entry_create(
        actor=actor,
        access=access,
        model=Allergy,
        substance="Pénicilline",
        reaction="Urticaire",
        severity="severe",
    )
    prescription = services.prescription_create(
        actor=actor,
        access=access,
        items=[
            services.ItemInput(
                drug_label="Metformine 1000 mg", posology="1 cp matin et soir", duration_days=90
            ),
            services.ItemInput(drug_label="Paracétamol 1 g", posology="1 cp x3/j", duration_days=5),
        ],
        renewals=2,
    )
    immunization = services.entry_create(
        actor=actor,
        access=access,
        model=Immunization,
        vaccinated_on=date(2025, 10, 15),
        vaccine="Vaccin grippe saisonnière",
        lot_number="AB123",
        dose="1",
    )
    note = services.entry_create(
        actor=actor,
        access=access,
        model=Observation,
        code="fond-oeil",
        label="Fond d'œil",
        value_text="Pas de rétinopathie",
    )
    letter = services.letter_write(
        actor=actor,
        access=access,
        title="Courrier au cardiologue",
        recipient="Dr Coeur",
        body="Cher confrère,",
        document_date=date(2026, 11, 2),
    )
    consent = choices.consent_give(
        actor=actor,
        patient_id=world.paul.pk,
        grantee_node="node-b",
        grantee_practice="cabinet-b",
        categories=["problems", "allergies"],
        labels=["mental_health"],
        source="formulaire signé n° 3",
        valid_from=date(2026, 11, 1),
        valid_until=date(2027, 11, 1),
    )
    return PaulRecord(
        encounter,
        diabetes,
        hypertension,
        depression,
        allergy,
        prescription,
        immunization,
        note,
        letter,
        consent.pk,
    )


@pytest.fixture
def alice(world: World) -> Fhir:
    return fhir_for(world, world.alice)


def ids(resources: list[dict[str, Any]]) -> set[str]:
    return {resource["id"] for resource in resources}


# --- the capability statement -----------------------------------------------------------


def test_metadata_is_a_public_valid_capability_statement(client: Client, db: None) -> None:
    response = client.get("/fhir/r4/metadata", HTTP_ACCEPT=FHIR_JSON)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR_JSON)
    statement = validated(response.json())
    assert (statement["resourceType"], statement["fhirVersion"]) == ("CapabilityStatement", "4.0.1")
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert list(resources) == RESOURCE_TYPES
    condition_params = {p["name"] for p in resources["Condition"]["searchParam"]}
    assert {"patient", "subject", "code", "date"} <= condition_params
    assert {p["name"] for p in resources["Patient"]["searchParam"]} == {
        "_id",
        "_lastUpdated",
        "family",
        "given",
        "name",
        "birthdate",
        "gender",
        "identifier",
    }
    assert all({"code": "read"} in r["interaction"] for r in resources.values())
    # Generated from the table the search reads: what is declared is what is understood.
    for kind, resource in resources.items():
        assert [p["name"] for p in resource["searchParam"]] == list(SEARCH_PARAMS[kind])
    assert {"code": "vread"} in resources["Condition"]["interaction"]
    assert "Condition:patient" in resources["Patient"]["searchRevInclude"]
    assert resources["Patient"]["operation"][0]["name"] == "everything"


def test_metadata_also_answers_plain_json(client: Client, db: None) -> None:
    response = client.get("/fhir/r4/metadata", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"


# --- every resource validates -----------------------------------------------------------


def test_every_resource_type_served_validates_with_fhir_resources(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = world.paul.pk
    patient = alice.ok(f"Patient/{paul}")
    [nir] = patient["identifier"]
    assert (nir["system"], nir["value"]) == (fhir_render.NIR_SYSTEM, world.paul.nir)
    assert patient["name"][0]["use"] == "official"
    assert patient["name"][0]["family"] == "Dupont"
    searched = set()
    for resource_type in [*CLINICAL_KINDS, "Consent", "AuditEvent"]:
        found = alice.search(f"{resource_type}?patient={paul}")
        assert found, f"no {resource_type} found"
        for resource in found:
            assert resource["resourceType"] == resource_type
            # Reading by id gives the same resource, validated too.
            assert alice.ok(f"{resource_type}/{resource['id']}") == resource
            searched.add(resource_type)
    assert searched == {*CLINICAL_KINDS, "Consent", "AuditEvent"}


def test_resources_say_what_the_record_holds(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    record, paul = paul_record, world.paul.pk
    condition = alice.ok(f"Condition/{record.diabetes.pk}")
    assert condition["code"]["coding"] == [
        {"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}
    ]
    assert condition["code"]["text"] == "Diabète de type 2"
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert (condition["onsetDateTime"], condition["subject"]) == (
        "2020-03-01",
        {"reference": f"Patient/{paul}"},
    )
    resolved = alice.ok(f"Condition/{record.hypertension.pk}")
    assert resolved["clinicalStatus"]["coding"][0]["code"] == "resolved"

    encounter = alice.ok(f"Encounter/{record.encounter.pk}")
    assert (encounter["status"], encounter["class"]["code"]) == ("finished", "AMB")
    assert encounter["reasonCode"] == [{"text": "Suivi diabète"}]
    assert "Va bien" not in str(encounter)  # the SOAP note is not served

    allergy = alice.ok(f"AllergyIntolerance/{record.allergy.pk}")
    assert (allergy["type"], allergy["criticality"]) == ("allergy", "high")
    assert allergy["reaction"][0]["manifestation"] == [{"text": "Urticaire"}]

    requests = alice.search(f"MedicationRequest?patient={paul}")
    assert {r["medicationCodeableConcept"]["text"] for r in requests} == {
        "Metformine 1000 mg",
        "Paracétamol 1 g",
    }
    assert {r["status"] for r in requests} == {"active"}
    assert {r["intent"] for r in requests} == {"order"}
    assert {r["dosageInstruction"][0]["text"] for r in requests} == {
        "1 cp matin et soir",
        "1 cp x3/j",
    }

    weight = next(
        o
        for o in alice.search(f"Observation?patient={paul}")
        if o["code"].get("coding", [{}])[0].get("code") == "29463-7"
    )
    assert weight["code"]["coding"][0]["system"] == "http://loinc.org"
    assert weight["valueQuantity"] == {
        "value": 72.5,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }
    note = alice.ok(f"Observation/{record.note.pk}")
    assert (note["code"], note["valueString"]) == ({"text": "Fond d'œil"}, "Pas de rétinopathie")

    vaccine = alice.ok(f"Immunization/{record.immunization.pk}")
    assert (vaccine["status"], vaccine["occurrenceDateTime"], vaccine["lotNumber"]) == (
        "completed",
        "2025-10-15",
        "AB123",
    )

    letter = alice.ok(f"DocumentReference/{record.letter.pk}")
    attachment = letter["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["url"].endswith(f"/p/cabinet-a/patients/{paul}/documents/{record.letter.pk}/")
    assert "data" not in attachment and "Cher confrère" not in str(letter)


def test_a_consent_says_what_the_patient_permits(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    consent = alice.ok(f"Consent/{paul_record.consent_id}")
    assert consent["status"] == "active"
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    assert consent["category"][0]["coding"][0] == {"system": "http://loinc.org", "code": "59284-0"}
    provision = consent["provision"]
    assert provision["type"] == "permit"
    assert provision["actor"][0]["reference"] == {
        "type": "Organization",
        "display": "node-b/cabinet-b",
    }
    assert provision["period"] == {"start": "2026-11-01", "end": "2027-11-01"}
    assert {c["code"] for c in provision["class"]} == {"Condition", "AllergyIntolerance"}
    assert provision["securityLabel"][0]["code"] == "PSY"

    actor = world.actor(world.alice)
    choices.consent_revoke(
        actor=actor, consent=SharingConsent.objects.get(pk=paul_record.consent_id)
    )
    assert alice.ok(f"Consent/{paul_record.consent_id}")["status"] == "inactive"


def test_the_access_log_says_who_did_what(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    sam = fhir_for(world, world.sam)
    assert sam.get(f"Condition?patient={world.paul.pk}").status_code == 403
    log = sam.search(f"AuditEvent?patient={world.paul.pk}&_count=200")
    creations = [e for e in log if e["subtype"][0]["code"] == "problem.create"]
    assert len(creations) == 3
    assert {(e["action"], e["outcome"]) for e in creations} == {("C", "0")}
    assert creations[0]["agent"][0]["who"]["display"] == "Dr Alice Arnaud"
    assert creations[0]["entity"][0]["what"] == {"reference": f"Patient/{world.paul.pk}"}
    denial = next(e for e in log if e["subtype"][0]["code"] == "access.denied")
    assert (denial["action"], denial["outcome"]) == ("R", "4")
    assert denial["agent"][0]["who"]["display"] == "Sam Simon"
    assert denial["outcomeDesc"] == "only practitioners see clinical content"


def test_the_access_log_pages_by_cursor_through_every_event_once(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    """A patient's access log only grows: its next links page by cursor, and walking
    them gives every event once, in the order of an offset walk."""
    sam = fhir_for(world, world.sam)
    search = f"AuditEvent?patient={world.paul.pk}&_count=3"
    everything = [e["id"] for e in sam.search(f"AuditEvent?patient={world.paul.pk}&_count=200")]
    page, walked = sam.ok(search), []
    while True:
        walked += [entry["resource"]["id"] for entry in page.get("entry", [])]
        link = {li["relation"]: li["url"] for li in page["link"]}.get("next")
        if link is None:
            break
        assert "_cursor=" in link
        page = sam.ok(link)
    # The walk's own searches are logged as it goes: the events of the first search are
    # all there, once, in order, and nothing else came before them.
    assert len(everything) >= 4
    assert walked[: len(everything)] == everything
    assert len(walked) == len(set(walked))


def test_a_prescription_line_of_the_drug_database_carries_its_cis_code() -> None:
    prescription = Prescription(
        pk=5,
        patient_id=7,
        author=Person(pk=3, full_name="Dr Alice Arnaud"),
        prescribed_on=date(2026, 1, 2),
        renewals=0,
    )
    item = PrescriptionItem(
        pk=9,
        prescription=prescription,
        drug_id="60234100",
        drug_label="DOLIPRANE 1000 mg, comprimé",
        posology="1 cp x3/j",
        duration_days=5,
    )
    resource = validated(fhir_render.medication_request(item, today=date(2026, 11, 22)))
    assert resource["medicationCodeableConcept"]["coding"] == [
        {
            "system": "http://data.esante.gouv.fr/ansm/medicament/codeCIS",
            "code": "60234100",
            "display": "DOLIPRANE 1000 mg, comprimé",
        }
    ]
    assert resource["status"] == "completed"  # five days in January
    assert resource["requester"] == {"display": "Dr Alice Arnaud"}


# --- searching --------------------------------------------------------------------------


def test_a_patient_is_found_by_name_birthdate_and_identifier(alice: Fhir, world: World) -> None:
    paul = str(world.paul.pk)
    assert ids(alice.search("Patient?name=dupont")) == {paul}
    assert ids(alice.search("Patient?name=Dupon&name=paul")) == {paul}
    born = world.paul.birth_date.isoformat()
    assert ids(alice.search(f"Patient?birthdate={born}")) == {paul}
    assert ids(alice.search(f"Patient?identifier={world.paul.nir}")) == {paul}
    nir = f"{fhir_render.NIR_SYSTEM}|{world.paul.nir}"
    assert ids(alice.search(f"Patient?identifier={nir}")) == {paul}
    assert alice.search("Patient?identifier=http://other.example|123456789") == []
    assert alice.search("Patient?name=zola") == []  # practice B's patient is not found
    after = (world.paul.birth_date - timedelta(days=1)).isoformat()
    assert paul in ids(alice.search(f"Patient?birthdate=ge{after}"))
    assert paul not in ids(alice.search(f"Patient?birthdate=lt{born}"))


def test_searches_filter_on_the_main_date_with_prefixes(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    record, paul = paul_record, world.paul.pk
    diabetes, hypertension = str(record.diabetes.pk), str(record.hypertension.pk)
    depression = str(record.depression.pk)
    conditions = f"Condition?patient={paul}"
    assert ids(alice.search(f"{conditions}&date=2020-03")) == {diabetes}
    assert ids(alice.search(f"{conditions}&date=ge2018&date=lt2024")) == {diabetes}
    assert ids(alice.search(f"{conditions}&date=lt2018-01-01")) == {hypertension}
    assert ids(alice.search(f"{conditions}&onset-date=le2015-06-01")) == {hypertension}
    assert ids(alice.search(f"{conditions}&date=gt2020-03-01")) == {depression}
    assert ids(alice.search(f"{conditions}&date=eq2020")) == {diabetes}

    vaccines = f"Immunization?patient={paul}"
    assert len(alice.search(f"{vaccines}&date=2025-10-15")) == 1
    assert alice.search(f"{vaccines}&date=gt2025-10-15") == []

    today = timezone.localdate()
    encounters = f"Encounter?patient={paul}"
    assert len(alice.search(f"{encounters}&date={today.isoformat()}")) == 1
    assert alice.search(f"{encounters}&date=lt{today.isoformat()}") == []
    assert len(alice.search(f"{encounters}&date=ge{today.isoformat()}T00:00:00%2B01:00")) == 1
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert alice.search(f"{encounters}&date=ge{tomorrow}") == []


def test_conditions_and_observations_are_searched_by_code(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul, diabetes = world.paul.pk, str(paul_record.diabetes.pk)
    assert ids(alice.search(f"Condition?patient={paul}&code=E11.9")) == {diabetes}
    assert ids(alice.search(f"Condition?subject=Patient/{paul}&code=e119")) == {diabetes}
    icd10 = "http://hl7.org/fhir/sid/icd-10"
    assert ids(alice.search(f"Condition?patient={paul}&code={icd10}|E11.9")) == {diabetes}
    assert len(alice.search(f"Condition?patient={paul}&code=E11.9,I10")) == 2
    assert alice.search(f"Condition?patient={paul}&code=http://snomed.info/sct|E119") == []
    weight = alice.search(f"Observation?patient={paul}&code=http://loinc.org|29463-7")
    assert [o["valueQuantity"]["value"] for o in weight] == [72.5]
    assert len(alice.search(f"Observation?patient={paul}&code=fond-oeil")) == 1


def test_count_and_offset_page_through_a_searchset(alice: Fhir, world: World) -> None:
    actor = world.actor(world.alice)
    access = access_for(world.paul)
    for days in range(5):
        services.entry_create(
            actor=actor,
            access=access,
            model=Immunization,
            vaccinated_on=date(2025, 1, 1) + timedelta(days=days),
            vaccine=f"Vaccin {days}",
        )
    page = alice.ok(f"Immunization?patient={world.paul.pk}&_count=2")
    assert (page["total"], len(page["entry"])) == (5, 2)
    seen = []
    while True:
        seen += [entry["resource"]["vaccineCode"]["text"] for entry in page.get("entry", [])]
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert "_count=2" in links["self"]
        if "next" not in links:
            break
        page = alice.ok(links["next"])
    assert seen == [f"Vaccin {days}" for days in range(4, -1, -1)]  # newest first, once each

    capped = alice.ok(f"Immunization?patient={world.paul.pk}&_count=500")
    assert "_count=200" in capped["link"][0]["url"] and len(capped["entry"]) == 5
    total_only = alice.ok(f"Immunization?patient={world.paul.pk}&_count=0")
    assert (total_only["total"], total_only.get("entry")) == (5, None)
    beyond = alice.ok(f"Immunization?patient={world.paul.pk}&_offset=10")
    assert (beyond["total"], beyond.get("entry")) == (5, None)
    refused(alice.get(f"Immunization?patient={world.paul.pk}&_count=-1"), 400)
    refused(alice.get(f"Immunization?patient={world.paul.pk}&_offset=x"), 400)


def test_next_links_page_by_cursor_without_offset_and_tell_the_same_rows(
    alice: Fhir, world: World
) -> None:
    """Keyset paging: a next link carries the signed sort values of the page's last row;
    the database is asked for the rows after it (no OFFSET), and the pages are those an
    offset walk gives. A changed or foreign cursor is a clear 400."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    actor = world.actor(world.alice)
    access = access_for(world.paul)
    same_day = date(2025, 3, 1)
    for n in range(7):  # several on one day: the primary key breaks the ties
        services.entry_create(
            actor=actor,
            access=access,
            model=Immunization,
            vaccinated_on=same_day if n % 2 else same_day + timedelta(days=n),
            vaccine=f"Vaccin {n}",
        )
    search = f"Immunization?patient={world.paul.pk}&_count=2"

    def names(page: dict[str, Any]) -> list[str]:
        return [entry["resource"]["vaccineCode"]["text"] for entry in page.get("entry", [])]

    by_offset = [
        name for offset in range(0, 8, 2) for name in names(alice.ok(f"{search}&_offset={offset}"))
    ]
    page = alice.ok(search)
    by_cursor = names(page)
    while (link := {li["relation"]: li["url"] for li in page["link"]}.get("next")) is not None:
        assert "_cursor=" in link
        with CaptureQueriesContext(connection) as queries:
            page = alice.ok(link)
        reads = [q["sql"] for q in queries.captured_queries if "records_immunization" in q["sql"]]
        assert reads and not any("OFFSET" in sql for sql in reads)
        by_cursor += names(page)
        previous = {li["relation"]: li["url"] for li in page["link"]}["previous"]
        assert "_cursor" not in previous  # going back pages by offset
    assert by_cursor == by_offset and len(by_cursor) == 7 == len(set(by_cursor))

    first = alice.ok(search)
    link = {li["relation"]: li["url"] for li in first["link"]}["next"]
    cursor = link.split("_cursor=")[1].split("&")[0]
    forged = link.replace(cursor, cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"))
    diagnostics = refused(alice.get(forged), 400)["issue"][0]["diagnostics"]
    assert "first page" in diagnostics or "première page" in diagnostics
    elsewhere = f"Encounter?patient={world.paul.pk}&_cursor={cursor}"
    refused(alice.get(elsewhere), 400)  # a cursor of another search
    refused(alice.get(f"Condition?patient={world.paul.pk}&_cursor={cursor}"), 400)  # by offset
    refused(alice.get(f"Patient?name=dupont&_cursor={cursor}"), 400)


def test_bad_search_parameters_are_a_400_operation_outcome(alice: Fhir, world: World) -> None:
    paul = world.paul.pk
    outcome = refused(alice.get("Condition"), 400)
    assert outcome["issue"][0]["code"] == "invalid"
    assert "patient" in outcome["issue"][0]["diagnostics"]
    strict = alice.get(f"Condition?patient={paul}&colour=red", HTTP_PREFER="handling=strict")
    assert "colour" in refused(strict, 400)["issue"][0]["diagnostics"]
    refused(alice.get(f"Condition?patient={paul}&date=2020-13-01"), 400)
    refused(alice.get(f"Condition?patient={paul}&date=xx2020"), 400)
    refused(alice.get(f"Condition?patient={paul}&date=yesterday"), 400)
    refused(alice.get("Condition?patient=Encounter/12"), 400)
    refused(alice.get(f"Condition?patient={paul}&subject=Patient/{paul + 1}"), 400)
    refused(alice.get(f"Immunization?subject=Patient/{paul}"), 400)  # no subject there
    # By default (lenient), unknown parameters are ignored and said so in the Bundle.
    lenient = alice.ok(f"Condition?patient={paul}&colour=red")
    [outcome_entry] = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert "colour" in outcome_entry["resource"]["issue"][0]["diagnostics"]
    assert (
        alice.get(
            f"Condition?patient={paul}&colour=red", HTTP_PREFER="handling=lenient"
        ).status_code
        == 200
    )


@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(
            r"(eq|ne|gt|ge|lt|le|sa)?[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?"
            r"(Z|[+ -][0-9]{2}:[0-9]{2})?)?)?)?",
            fullmatch=True,
        ),
    ),
    st.booleans(),
)
def test_a_date_parameter_is_understood_or_refused_never_a_crash(raw: str, moment: bool) -> None:
    with contextlib.suppress(InvalidSearch):
        date_filter("when", moment, raw)


def test_odd_values_are_400_or_404_never_500(alice: Fhir, world: World) -> None:
    paul = world.paul.pk
    refused(alice.get(f"Condition?patient={paul}&_count=²"), 400)
    refused(alice.get(f"Condition?patient={paul}&_offset=99999999999999999999"), 400)
    refused(alice.get(f"Condition?patient={paul}&date=9999-12-31T23:59"), 400)
    refused(alice.get(f"Condition?patient={paul}&date=20%0A20"), 400)
    refused(alice.get("Condition?patient=99999999999999999999"), 400)
    refused(alice.get("Condition?patient=999999999999999999"), 404)
    refused(alice.get("Condition/²"), 404)
    refused(alice.get("Patient/99999999999999999999"), 404)
    refused(alice.get("Patient?birthdate=2020-02-30"), 400)
    assert alice.search("Patient?identifier=²²²²²²") == []


# --- the access policy ------------------------------------------------------------------


def test_a_secretary_gets_403_on_conditions_and_the_denial_is_audited(
    world: World, paul_record: PaulRecord
) -> None:
    sam = fhir_for(world, world.sam)
    outcome = refused(sam.get(f"Condition?patient={world.paul.pk}"), 403)
    assert outcome["issue"][0]["code"] == "forbidden"
    refused(sam.get(f"Condition/{paul_record.diabetes.pk}"), 403)
    tenancy.activate(world.practice_a.pk)
    denials = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk)
    assert denials.count() == 2
    assert {(d.patient_id, d.channel, d.details["rule"]) for d in denials} == {
        (world.paul.pk, "fhir", "not-practitioner")
    }
    # Identity and administrative data stay open to her.
    assert sam.ok(f"Patient/{world.paul.pk}")["id"] == str(world.paul.pk)
    assert len(sam.search(f"Consent?patient={world.paul.pk}")) == 1


def test_a_practitioner_outside_the_care_team_gets_403(
    world: World, paul_record: PaulRecord
) -> None:
    bob = fhir_for(world, world.bob)
    refused(bob.get(f"Condition?patient={world.paul.pk}"), 403)
    refused(bob.get(f"Observation/{paul_record.note.pk}"), 403)
    refused(bob.get(f"MedicationRequest?patient={world.paul.pk}"), 403)
    tenancy.activate(world.practice_a.pk)
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.bob.pk).latest("seq")
    assert (denial.patient_id, denial.channel, denial.details["rule"]) == (
        world.paul.pk,
        "fhir",
        "not-in-care-team",
    )


def test_another_practices_patient_is_404(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    charlie_actor = world.actor(world.charlie, world.practice_b)
    zoe_problem = services.entry_create(
        actor=charlie_actor, access=access_for(world.zoe), model=Problem, label="Asthme"
    )
    assert refused(alice.get(f"Patient/{world.zoe.pk}"), 404)["issue"][0]["code"] == "not-found"
    refused(alice.get(f"Condition?patient={world.zoe.pk}"), 404)
    refused(alice.get(f"Condition/{zoe_problem.pk}"), 404)
    refused(alice.get(f"Consent?patient={world.zoe.pk}"), 404)
    charlie = fhir_for(world, world.charlie, world.practice_b)
    refused(charlie.get(f"Patient/{world.paul.pk}"), 404)
    refused(charlie.get(f"Condition/{paul_record.diabetes.pk}"), 404)
    refused(charlie.get(f"Consent/{paul_record.consent_id}"), 404)
    assert ids(charlie.search(f"Condition?patient={world.zoe.pk}")) == {str(zoe_problem.pk)}


def test_a_sensitive_condition_is_not_returned_to_a_colleague(
    world: World, paul_record: PaulRecord
) -> None:
    services.care_team_add(
        actor=world.actor(world.alice), patient=world.paul, person_id=world.bob.pk
    )
    bob = fhir_for(world, world.bob)
    depression = str(paul_record.depression.pk)
    bundle = bob.ok(f"Condition?patient={world.paul.pk}")
    assert depression not in ids([e["resource"] for e in bundle["entry"]])
    assert bundle["total"] == 2
    assert "dépressif" not in str(bundle)
    refused(bob.get(f"Condition/{depression}"), 403)
    tenancy.activate(world.practice_a.pk)
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.bob.pk).latest("seq")
    assert (denial.target, denial.details["rule"]) == (f"problem:{depression}", "sensitive")
    # Its author sees it; so does Bob once the patient allows him that label.
    alice = fhir_for(world, world.alice)
    assert depression in ids(alice.search(f"Condition?patient={world.paul.pk}"))
    choices.label_grant_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        label="mental_health",
        person_id=world.bob.pk,
        source="formulaire signé n° 4",
    )
    assert depression in ids(bob.search(f"Condition?patient={world.paul.pk}"))


def bob_in_the_team_excluded(
    world: World, entry_type: str = "", entry_id: int | None = None
) -> Any:
    """Bob joins Paul's care team, and Paul excludes him from one entry (or, with no
    entry named, from his whole record), on a signed form. The actor: Alice, his GP."""
    actor = world.actor(world.alice)
    services.care_team_add(actor=actor, patient=world.paul, person_id=world.bob.pk)
    choices.restriction_add(
        actor=actor,
        patient_id=world.paul.pk,
        person_id=world.bob.pk,
        source="formulaire signé n° 5",
        entry_type=entry_type,
        entry_id=entry_id,
    )
    return actor


def test_an_entry_the_patient_hid_from_a_colleague_is_left_out(
    world: World, paul_record: PaulRecord
) -> None:
    bob_in_the_team_excluded(world, "problem", paul_record.diabetes.pk)
    bob = fhir_for(world, world.bob)
    found = ids(bob.search(f"Condition?patient={world.paul.pk}&code=E11.9,I10"))
    assert found == {str(paul_record.hypertension.pk)}
    refused(bob.get(f"Condition/{paul_record.diabetes.pk}"), 403)


def test_each_read_leaves_an_audit_event_on_the_fhir_channel(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    paul = world.paul.pk
    tenancy.activate(world.practice_a.pk)
    before = AuditEvent.objects.count()
    reads = [
        f"Patient/{paul}",
        "Patient?name=dupont",
        f"Condition?patient={paul}",
        f"Condition/{paul_record.diabetes.pk}",
        f"MedicationRequest?patient={paul}",
        f"DocumentReference/{paul_record.letter.pk}",
        f"Consent?patient={paul}",
        f"Consent/{paul_record.consent_id}",
        f"AuditEvent?patient={paul}",
    ]
    for path in reads:
        alice.ok(path)
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert len(events) == len(reads)
    assert {e.channel for e in events} == {"fhir"}
    assert {e.actor_id for e in events} == {world.alice.pk}
    assert [e.action for e in events] == ["patient.read", "patient.search", *["patient.read"] * 7]
    condition_search = events[2]
    assert (condition_search.patient_id, condition_search.category) == (paul, "clinical")
    assert condition_search.details["resource"] == "Condition"
    assert events[3].target == f"problem:{paul_record.diabetes.pk}"
    assert events[7].target == f"consent:{paul_record.consent_id}"


def test_an_entry_entered_in_error_leaves_searches_and_is_read_with_its_status(
    alice: Fhir, world: World, paul_record: PaulRecord
) -> None:
    services.entry_mark_in_error(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        entry=paul_record.allergy,
        expected_version=1,
        reason="mauvais dossier",
    )
    assert alice.search(f"AllergyIntolerance?patient={world.paul.pk}") == []
    allergy = alice.ok(f"AllergyIntolerance/{paul_record.allergy.pk}")
    assert allergy["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in allergy


# --- errors -----------------------------------------------------------------------------


def test_without_a_valid_token_the_answer_is_401(client: Client, world: World) -> None:
    response = client.get(f"/fhir/r4/Patient/{world.paul.pk}")
    outcome = refused(response, 401)
    assert outcome["issue"][0]["code"] == "login"
    assert response["WWW-Authenticate"] == "Bearer"
    bad = client.get("/fhir/r4/Patient", HTTP_AUTHORIZATION="Bearer carnet_0000_nope")
    refused(bad, 401)


def test_unknown_types_ids_and_methods_get_operation_outcomes(alice: Fhir, world: World) -> None:
    refused(alice.get("Practitioner/1"), 404)
    refused(alice.get("Condition/abc"), 404)
    refused(alice.get("Condition/999999"), 404)
    refused(alice.get("AuditEvent/999999"), 404)
    response = alice.client.post(
        "/fhir/r4/Condition",
        data={"resourceType": "Condition"},
        content_type=FHIR_JSON,
        HTTP_AUTHORIZATION=alice.auth,
    )
    refused(response, 405)
    xml = alice.get(f"Patient/{world.paul.pk}", HTTP_ACCEPT="application/fhir+xml")
    refused(xml, 406)
