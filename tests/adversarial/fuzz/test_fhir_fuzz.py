"""Schemathesis over the FHIR R4 API, in-process, as a practitioner and as a secretary.

Carnet's OpenAPI schema leaves FHIR out (FHIR describes itself with its
CapabilityStatement), so the corpus keeps an OpenAPI description of what /fhir/r4/
serves: read and search of each type, with its search parameters. The first test makes
sure that description still names everything the server serves, so that a new type or
parameter is fuzzed too.

Checked for each generated request: no 5xx, the documented status codes and bodies (a
searchset Bundle of the type asked for, with what it includes and an OperationOutcome
for what it ignored; a history Bundle; the resource; or an OperationOutcome), broken
input refused with a 4xx, and nothing written (FHIR is read-only here; reads are
audited, which is not counted).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core import tenancy
from core.audit.models import AuditEvent
from records.models import PrescriptionItem
from sharing.fhir.api import SEARCH_PARAMS
from tests.adversarial import counts
from tests.adversarial.fuzz import schemas
from tests.adversarial.fuzz.conftest import FuzzWorld

SUITE = "FHIR fuzzing"
EXAMPLES = schemas.examples({"practitioner": 6, "secretary": 3})
raw_schema = schemas.fhir_api_schema()
schema = schemas.load(raw_schema)


def test_the_fhir_description_names_everything_served(client: Client, db: None) -> None:
    served = client.get("/fhir/r4/metadata").json()["rest"][0]["resource"]
    for resource in served:
        kind = resource["type"]
        search = raw_schema["paths"][f"/fhir/r4/{kind}"]["get"]
        described = {parameter["name"] for parameter in search["parameters"]}
        assert {param["name"] for param in resource["searchParam"]} <= described, kind
        assert set(SEARCH_PARAMS[kind]) <= described, kind
        assert f"/fhir/r4/{kind}/{{id}}" in raw_schema["paths"]
        if {"code": "vread"} in resource["interaction"]:
            assert f"/fhir/r4/{kind}/{{id}}/_history/{{vid}}" in raw_schema["paths"]
            assert f"/fhir/r4/{kind}/{{id}}/_history" in raw_schema["paths"]
        if {"code": "history-type"} in resource["interaction"]:
            assert f"/fhir/r4/{kind}/_history" in raw_schema["paths"]
        parameters = {p["name"]: p for p in search["parameters"]}
        for key in ("searchInclude", "searchRevInclude"):
            name = "_include" if key == "searchInclude" else "_revinclude"
            if resource.get(key):
                assert set(resource[key]) <= set(parameters[name]["schema"]["enum"]), kind
    assert "/fhir/r4/Patient/{id}/$everything" in raw_schema["paths"]
    history = sum({"code": "vread"} in resource["interaction"] for resource in served)
    assert len(raw_schema["paths"]) == 2 * len(served) + 3 * history + 2


def fhir_rows(fuzz_world: FuzzWorld) -> dict[str, Any]:
    world, known, entries = fuzz_world.world, fuzz_world.known, fuzz_world.entries
    tenancy.activate(world.practice_a.pk)
    item = PrescriptionItem.objects.filter(prescription_id=known["prescription_id"]).first()
    event = AuditEvent.objects.filter(patient_id=world.paul.pk).order_by("pk").first()
    tenancy.activate(None)
    assert item is not None and event is not None
    return {
        "fhir:patient": world.paul.pk,
        "fhir:Patient": str(world.paul.pk),
        "fhir:Encounter": str(entries["encounters"]),
        "fhir:Condition": str(entries["problems"]),
        "fhir:AllergyIntolerance": str(entries["allergies"]),
        "fhir:Immunization": str(entries["immunizations"]),
        "fhir:Observation": str(entries["observations"]),
        "fhir:MedicationRequest": str(item.pk),
        "fhir:DocumentReference": str(known["document_id"]),
        "fhir:Consent": str(known["consent_id"]),
        "fhir:AuditEvent": str(event.pk),
        "vid": "1",
    }


def follows_nothing(case: Any) -> bool:
    """The case asks for an _include or a _revinclude the description does not list."""
    search = raw_schema["paths"].get(case.operation.path, {}).get("get", {})
    listed = {
        parameter["name"]: set(parameter["schema"].get("enum", []))
        for parameter in search.get("parameters", [])
        if parameter["name"] in ("_include", "_revinclude")
    }
    return any(
        name in (case.query or {}) and str(case.query[name]) not in values
        for name, values in listed.items()
    )


@pytest.mark.parametrize("role", ["practitioner", "secretary"])
def test_the_fhir_api_keeps_to_its_description(
    role: str, fuzz_world: FuzzWorld, in_process: None
) -> None:
    token = fuzz_world.tokens[role]

    def send(case: Any) -> Any:
        before = fuzz_world.counts()
        headers = {"Authorization": token, "Accept-Language": "en"}
        if follows_nothing(case):
            # By default an _include the server cannot follow is ignored and reported
            # (FHIR's lenient handling, a 200): asked strictly, it must be refused.
            headers["Prefer"] = "handling=strict"
        response = case.call_and_validate(
            headers=headers,
            excluded_checks=[positive_data_acceptance],
        )
        fuzz_world.check_constraints()
        assert fuzz_world.counts() == before, "a FHIR read wrote to the record"
        return response

    outcome = schemas.fuzz(schema, send, known=fhir_rows(fuzz_world), max_examples=EXAMPLES[role])
    counts.record(SUITE, "examples", outcome.examples)
    # Operations once (the practitioner's run); the secretary's run is counted apart.
    what = "operations" if role == "practitioner" else "operations fuzzed as a secretary"
    counts.record(SUITE, what, outcome.operations)
    assert outcome.operations == len(raw_schema["paths"])
    assert not outcome.failures, "\n\n".join(
        f"{op}:\n{why}" for op, why in outcome.failures.items()
    )
    assert outcome.statuses[200] > 0 and outcome.statuses[400] > 0
