"""A FHIR client library nobody on the project wrote (fhirpy) against a live Carnet:
gunicorn, its own database, the demo practice, the demo practitioner's API token.

No browser is needed, so this test carries no ``browser`` marker.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ForbiddenError, ResourceNotFound

from tests.live_server import LiveCarnet


def validated(resource: Any) -> dict[str, Any]:
    data = resource.serialize() if hasattr(resource, "serialize") else dict(resource)
    get_fhir_model_class(data["resourceType"]).model_validate(data)
    return data


def test_a_fhir_client_searches_patients_reads_one_and_fetches_its_conditions(
    live_carnet: LiveCarnet,
) -> None:
    token = live_carnet.credentials["api_token"]["token"]
    client = SyncFHIRClient(f"{live_carnet.url}/fhir/r4", authorization=f"Bearer {token}")

    statement = client.execute("metadata", method="get")
    assert validated(statement)["fhirVersion"] == "4.0.1"

    # Every patient of the demo practice, ten per page: the client follows the next links.
    patients = client.resources("Patient").limit(10).fetch_all()
    assert len(patients) >= 30
    assert len({patient.id for patient in patients}) == len(patients)
    for patient in patients:
        assert validated(patient)["resourceType"] == "Patient"

    # Found by name, read by id: the same patient.
    first = patients[0]
    family = first["name"][0]["family"]
    by_name = client.resources("Patient").search(name=family).fetch()
    assert first.id in {patient.id for patient in by_name}
    read = client.reference("Patient", first.id).to_resource()
    assert validated(read) == validated(first)

    # The demo practitioner's conditions: her patients answer, the others are refused.
    conditions: list[Any] = []
    refusals = 0
    for patient in patients:
        try:
            found = client.resources("Condition").search(patient=patient.id).fetch_all()
        except ForbiddenError:
            refusals += 1
            continue
        for condition in found:
            data = validated(condition)
            assert data["subject"] == {"reference": f"Patient/{patient.id}"}
        conditions += found
        if len(conditions) >= 5:
            break
    assert conditions, f"no condition readable ({refusals} patients refused)"
    coded = next(c for c in conditions if c["code"].get("coding"))
    code = coded["code"]["coding"][0]["code"]
    same_code = (
        client.resources("Condition")
        .search(patient=coded["subject"]["reference"], code=code)
        .fetch()
    )
    assert coded.id in {condition.id for condition in same_code}

    # Errors come back as FHIR errors the client understands.
    try:
        client.reference("Patient", "999999999").to_resource()
    except ResourceNotFound:
        pass
    else:  # pragma: no cover - the assertion below explains the failure
        raise AssertionError("an unknown patient must be 404")
