"""A FHIR client library nobody on the project wrote (fhirpy) against a live Carnet:
gunicorn, its own database, the demo practice, the demo practitioner's API token.

No browser is needed, so this test carries no ``browser`` marker.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
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


# --- every declared search parameter, exercised --------------------------------------


class Exercised:
    """A fhirpy client that remembers which (type, parameter) its searches used."""

    def __init__(self, client: SyncFHIRClient) -> None:
        self.client = client
        self.used: set[tuple[str, str]] = set()

    # The access log grows with every read: its searches look before this instant, so
    # that totals and pages stay comparable.
    frozen: dict[str, dict[str, str]] = {}

    def search(self, resource_type: str, **params: Any) -> Any:
        for name in params:
            self.used.add((resource_type, name.split("__")[0]))
        for name, value in self.frozen.get(resource_type, {}).items():
            params[name] = [params[name], value] if name in params else value
        return self.client.resources(resource_type).search(**params)

    def bundle(self, resource_type: str, **params: Any) -> dict[str, Any]:
        """The raw Bundle, checked: its total is what ``_summary=count`` says."""
        raw = self.search(resource_type, **params).fetch_raw()
        counted = self.search(resource_type, **params, _summary="count").fetch_raw()
        data = validated(raw)
        assert counted["total"] == data["total"], (resource_type, params)
        assert "entry" not in counted
        return data

    def ids(self, resource_type: str, **params: Any) -> set[str]:
        """Every match (next links followed) of the search."""
        found = self.search(resource_type, **params).limit(100).fetch_all()
        assert len(found) == self.bundle(resource_type, **params)["total"], (resource_type, params)
        return {resource.id for resource in found}


def day_of(value: str) -> str:
    return value[:10]


# The element holding each type's main date (the "date" parameter and its aliases).
DATE_ELEMENT = {
    "Encounter": lambda r: r["period"]["start"],
    "Condition": lambda r: r.get("onsetDateTime"),
    "AllergyIntolerance": lambda r: r["recordedDate"],
    "MedicationRequest": lambda r: r["authoredOn"],
    "Immunization": lambda r: r["occurrenceDateTime"],
    "Observation": lambda r: r["effectiveDateTime"],
    "DocumentReference": lambda r: r["date"],
    "Consent": lambda r: r["dateTime"],
    "AuditEvent": lambda r: r["recorded"],
}


def first_code(concept: dict[str, Any] | None) -> str | None:
    codings = (concept or {}).get("coding") or [{}]
    return codings[0].get("code")


def value_for(resource: dict[str, Any], param: str) -> str | None:
    """A value of ``param`` that must find ``resource`` (None: the resource has none)."""
    kind = resource["resourceType"]
    if param == "_id":
        return resource["id"]
    if param == "_lastUpdated":
        return "ge" + day_of(resource["meta"]["lastUpdated"])
    if param in ("patient", "subject"):
        entity = (resource.get("entity") or [{}])[0].get("what")  # an AuditEvent's
        reference = resource.get("subject") or resource.get("patient") or entity
        return reference["reference"] if reference else None
    if param in ("date", "onset-date", "authoredon"):
        when = DATE_ELEMENT[kind](resource)
        return day_of(when) if when else None
    if param == "code":
        concept = resource.get("code") or resource.get("medicationCodeableConcept")
        return first_code(concept)
    if param == "vaccine-code":
        return first_code(resource.get("vaccineCode"))
    if param == "category":
        return first_code((resource.get("category") or [None])[0])
    if param == "clinical-status":
        return first_code(resource.get("clinicalStatus"))
    name = resource["name"][0]
    simple = {
        "family": name["family"],
        "given": name["given"][0],
        "name": name["family"].lower()[:4],
        "birthdate": resource["birthDate"],
        "gender": resource["gender"],
        "identifier": (
            f"{resource['identifier'][0]['system']}|{resource['identifier'][0]['value']}"
            if resource.get("identifier")
            else None
        ),
    }
    return simple[param]


def a_readable_patient(client: SyncFHIRClient, patients: list[Any]) -> Any:
    """A patient the demo practitioner may read, with a coded condition and vitals."""
    for patient in patients:
        try:
            conditions = client.resources("Condition").search(patient=patient.id).fetch_all()
        except ForbiddenError:
            continue
        observations = client.resources("Observation").search(patient=patient.id).fetch()
        if any(c["code"].get("coding") for c in conditions) and observations:
            return patient
    raise AssertionError("no readable patient with coded conditions")


def test_every_declared_search_parameter_finds_what_it_should(live_carnet: LiveCarnet) -> None:
    token = live_carnet.credentials["api_token"]["token"]
    client = SyncFHIRClient(f"{live_carnet.url}/fhir/r4", authorization=f"Bearer {token}")
    fhir = Exercised(client)
    time.sleep(1.01)
    cut = datetime.now(UTC).isoformat(timespec="seconds")
    fhir.frozen = {"AuditEvent": {"date": f"lt{cut}"}}
    statement = client.execute("metadata", method="get")
    declared = {
        (resource["type"], param["name"])
        for resource in statement["rest"][0]["resource"]
        for param in resource["searchParam"]
    }

    patients = client.resources("Patient").limit(50).fetch_all()
    patient = a_readable_patient(client, patients)
    reference = f"Patient/{patient.id}"
    rest(
        live_carnet,
        "POST",
        f"patients/{patient.id}/consents/",
        {
            "grantee_node": "paris",
            "grantee_practice": "msp-des-tilleuls",
            "categories": ["problems"],
            "source": "formulaire signé n° 7",
        },
    )
    rest(
        live_carnet,
        "POST",
        f"patients/{patient.id}/letters/",
        {
            "title": "Courrier au cardiologue",
            "recipient": "Dr Coeur",
            "body": "Cher confrère,",
            "document_date": "2026-11-02",
        },
    )
    # Resources of every type, from the first readable patients.
    samples: dict[str, list[dict[str, Any]]] = {"Patient": [p.serialize() for p in patients]}
    readable = 0
    for candidate in [patient, *patients]:
        if readable == 6:
            break
        try:
            client.resources("Condition").search(patient=candidate.id).fetch()
        except ForbiddenError:
            continue
        readable += 1
        for resource_type in sorted({kind for kind, _name in declared} - {"Patient"}):
            found = client.resources(resource_type).search(patient=candidate.id).limit(100)
            samples.setdefault(resource_type, [])
            samples[resource_type] += [resource.serialize() for resource in found.fetch_all()]

    # Each parameter, with a value taken from a resource, finds that resource: alone
    # (Patient) or with its patient (the others).
    for resource_type, param in sorted(declared):
        candidates = [r for r in samples[resource_type] if value_for(r, param) is not None]
        assert candidates, f"no {resource_type} to search by {param}"
        resource = candidates[0]
        params = {param: value_for(resource, param)}
        if resource_type != "Patient" and param not in ("patient", "subject"):
            params["patient"] = value_for(resource, "patient")
        assert resource["id"] in fhir.ids(resource_type, **params), (resource_type, params)

    # Modifiers and prefixes a stock client sends.
    family = patient["name"][0]["family"]
    assert patient.id in fhir.ids("Patient", family__exact=family)
    assert patient.id in fhir.ids("Patient", family__contains=family[1:4].lower())
    assert patient.id not in fhir.ids("Patient", birthdate=f"ne{patient['birthDate']}")
    assert patient.id in fhir.ids("Patient", birthdate=f"ap{patient['birthDate']}")
    newest = fhir.search("Observation", patient=reference).sort("-date").limit(5).fetch()
    dates = [o["effectiveDateTime"] for o in newest]
    assert dates == sorted(dates, reverse=True)
    subset = fhir.bundle("Observation", patient=patient.id, _elements="code")
    assert all("performer" not in e["resource"] for e in subset.get("entry", []))
    # fhirpy's count() sends _totalMethod, which this server does not know: ignored.
    conditions = client.resources("Condition").search(patient=patient.id)
    assert conditions.count() == len(conditions.fetch_all())

    missing = declared - fhir.used
    assert not missing, f"declared in the CapabilityStatement but never exercised: {missing}"


def rest(live_carnet: LiveCarnet, method: str, path: str, body: Any = None) -> Any:
    """Carnet's REST API, as the demo practitioner."""
    token = live_carnet.credentials["api_token"]["token"]
    request = urllib.request.Request(  # noqa: S310 - the live server on loopback
        f"{live_carnet.url}/api/v1/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
        return json.loads(response.read() or b"null")


def test_includes_bring_the_linked_resources_and_never_a_refused_one(
    live_carnet: LiveCarnet,
) -> None:
    token = live_carnet.credentials["api_token"]["token"]
    client = SyncFHIRClient(f"{live_carnet.url}/fhir/r4", authorization=f"Bearer {token}")
    patients = client.resources("Patient").limit(50).fetch_all()
    patient = a_readable_patient(client, patients)

    bundle = validated(
        client.resources("Condition")
        .search(patient=patient.id)
        .include("Condition", "patient")
        .fetch_raw()
    )
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert [(r["resourceType"], r["id"]) for r in included] == [("Patient", patient.id)]

    # Two new patients of the demo practitioner (Claire), each with two problems; the
    # first hides one problem from her, the second hides the whole record from her.
    claire_name = live_carnet.account("claire.martin")["name"]
    hers = next(
        p for p in patients if p.get("generalPractitioner", [{}])[0].get("display") == claire_name
    )
    claire = rest(live_carnet, "GET", f"patients/{hers.id}/")["gp"]
    made = []
    for given in ("Anaïs", "Basile"):
        new = rest(
            live_carnet,
            "POST",
            "patients/",
            {
                "birth_name": "Exclusionnet",
                "given_names": given,
                "sex": "X",
                "birth_date": "1977-07-07",
                "confirm_not_duplicate": True,
            },
        )
        problems = [
            rest(live_carnet, "POST", f"patients/{new['id']}/problems/", {"label": label})
            for label in ("Lombalgie", "Entorse de cheville")
        ]
        made.append((str(new["id"]), [str(problem["id"]) for problem in problems]))
    (partly, (hidden, shown)), (wholly, _problems) = made
    rest(
        live_carnet,
        "POST",
        f"patients/{partly}/exclusions/",
        {
            "person": claire,
            "source": "formulaire signé n° 1",
            "entry_type": "problem",
            "entry_id": int(hidden),
        },
    )
    rest(
        live_carnet,
        "POST",
        f"patients/{wholly}/exclusions/",
        {"person": claire, "source": "formulaire signé n° 2"},
    )

    # Every patient with their conditions: exactly what a Condition search by that
    # patient gives (the policy entry by entry), never what was hidden.
    bundle = validated(
        client.resources("Patient")
        .search(family="exclusionnet")
        .revinclude("Condition", "patient")
        .fetch_raw()
    )
    listed = {e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"}
    included_ids = {
        e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "include"
    }
    assert listed == {partly}  # the other one is not even found
    assert included_ids == {shown}
    with pytest.raises(ForbiddenError):
        client.resources("Condition").search(patient=wholly).fetch()

    bundle = validated(
        client.resources("Patient").limit(50).revinclude("Condition", "patient").fetch_raw()
    )
    by_patient: dict[str, set[str]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if entry["search"]["mode"] == "include":
            owner = resource["subject"]["reference"].removeprefix("Patient/")
            by_patient.setdefault(owner, set()).add(resource["id"])
    listed_ids = [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert wholly not in listed_ids and hidden not in str(by_patient.get(partly, set()))
    for patient_id in listed_ids:
        allowed = {
            c.id for c in client.resources("Condition").search(patient=patient_id).fetch_all()
        }
        assert by_patient.get(patient_id, set()) == allowed, patient_id
    assert len(by_patient) >= 5


def test_everything_validates_and_a_version_read_gives_the_earlier_content(
    live_carnet: LiveCarnet,
) -> None:
    token = live_carnet.credentials["api_token"]["token"]
    client = SyncFHIRClient(f"{live_carnet.url}/fhir/r4", authorization=f"Bearer {token}")
    patients = client.resources("Patient").limit(50).fetch_all()
    patient = a_readable_patient(client, patients)

    everything = client.execute(f"Patient/{patient.id}/$everything", method="get")
    bundle = validated(everything)
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "Condition", "Observation"} <= kinds
    assert bundle["total"] == len(bundle["entry"])

    # Correct a condition through the REST API, as a practitioner would.
    condition = next(
        c
        for c in client.resources("Condition").search(patient=patient.id).fetch_all()
        if c["code"].get("coding")
    )
    before = validated(condition)
    kind_url = f"{live_carnet.url}/api/v1/patients/{patient.id}/problems/{condition.id}/"
    # A second before, as the server stamps it (the same clock), for _since below.
    started = datetime.fromtimestamp(time.time() - 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(
        {
            "version": int(before["meta"]["versionId"]),
            "reason": "Libellé précisé",
            "label": before["code"]["text"] + " (précisé)",
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the live server on loopback
        kind_url,
        data=body,
        method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
        assert response.status == 200

    current = validated(client.reference("Condition", condition.id).to_resource())
    version = int(before["meta"]["versionId"])
    assert current["meta"]["versionId"] == str(version + 1)
    assert current["code"]["text"].endswith("(précisé)")
    earlier = validated(
        client.execute(f"Condition/{condition.id}/_history/{version}", method="get")
    )
    assert earlier["code"] == before["code"]
    assert earlier["meta"]["versionId"] == str(version)
    history = validated(client.execute(f"Condition/{condition.id}/_history", method="get"))
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]][:2] == [
        str(version + 1),
        str(version),
    ]
    # The history of the type: the correction is the newest version of the practice's
    # conditions, and _since keeps only what was written from then on.
    recent = validated(
        client.execute("Condition/_history", method="get", params={"_since": started})
    )
    assert recent["type"] == "history"
    newest = recent["entry"][0]["resource"]
    assert (newest["id"], newest["meta"]["versionId"]) == (condition.id, str(version + 1))
    since = datetime.fromisoformat(started.replace("Z", "+00:00"))
    assert all(
        datetime.fromisoformat(e["response"]["lastModified"]) >= since for e in recent["entry"]
    )
    page = validated(client.execute("Condition/_history", method="get", params={"_count": 3}))
    assert len(page["entry"]) == 3
    assert (page["entry"][0]["resource"]["id"], page["entry"][0]["request"]["method"]) == (
        condition.id,
        "PUT",
    )
