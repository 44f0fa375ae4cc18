"""What the fuzzers found, kept as plain regression tests."""

from __future__ import annotations

from django.test import Client

from core.accounts.models import Person
from tests.adversarial.fuzz.conftest import FuzzWorld


def test_an_unknown_person_is_refused_not_a_server_error_at_commit(
    client: Client, fuzz_world: FuzzWorld
) -> None:
    """The foreign key is checked only at commit: without a check first, an unknown
    person id was a 500 (excluding, or allowing a sensitive label)."""
    missing = (Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    patient = f"/api/v1/patients/{fuzz_world.world.paul.pk}"
    before = fuzz_world.counts()
    for path, body in (
        ("exclusions/", {"person": missing, "source": "formulaire"}),
        ("label-grants/", {"person": missing, "label": "mental_health", "source": "formulaire"}),
    ):
        for language, words in (("en", "No such person."), ("fr", "Cette personne n'existe pas.")):
            response = fuzz_world.call(
                client,
                "post",
                f"{patient}/{path}",
                "secretary",
                data=body,
                content_type="application/json",
                HTTP_ACCEPT_LANGUAGE=language,
            )
            fuzz_world.check_constraints()
            assert response.status_code == 400, response.content
            assert response.json()["error"]["fields"]["person"] == [words]
    assert fuzz_world.counts() == before


def test_a_moment_before_1920_is_refused(client: Client, fuzz_world: FuzzWorld) -> None:
    """Such a date-time came back with Paris mean time's offset in seconds
    ("+00:09:21"), which is not a date-time any client can read."""
    patient = f"/api/v1/patients/{fuzz_world.world.paul.pk}"
    before = fuzz_world.counts()
    response = fuzz_world.call(
        client,
        "post",
        f"{patient}/observations/",
        data={
            "code": "29463-7",
            "label": "Poids",
            "value": "70",
            "effective_at": "0446-03-04T04:53:37+13:24",
        },
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["effective_at"] == [
        "Une date et heure antérieure à 1920 n'est pas acceptée."
    ]
    assert fuzz_world.counts() == before
    fine = fuzz_world.call(
        client,
        "post",
        f"{patient}/encounters/",
        data={"reason": "Contrôle", "occurred_at": "1999-12-31T23:59:00+01:00"},
        content_type="application/json",
    )
    assert fine.status_code == 201 and fine.json()["occurred_at"].endswith("+01:00")


def test_each_kind_of_entry_is_described_as_itself(client: Client, fuzz_world: FuzzWorld) -> None:
    """Every kind was described with the observation's schema (the last annotated)."""
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for kind, name in (
        ("allergies", "Allergy"),
        ("problems", "Problem"),
        ("observations", "Observation"),
    ):
        listed = paths[f"/api/v1/patients/{{patient_id}}/{kind}/"]
        created = listed["post"]["responses"]["201"]["content"]["application/json"]["schema"]
        assert created == {"$ref": f"#/components/schemas/{name}"}
    error = paths["/api/v1/patients/"]["get"]["responses"]["404"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/Error"}
