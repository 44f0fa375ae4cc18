"""The records REST API: same rules as the pages (policy + audit), one error format."""

from __future__ import annotations

import pytest
from django.test import Client

from core import tenancy
from core.accounts import services as accounts
from core.audit.models import AuditEvent
from records.models import Encounter
from tests.fixtures import World


class Api:
    def __init__(self, client: Client, token: str) -> None:
        self.client, self.auth = client, f"Bearer {token}"

    def get(self, path: str):
        return self.client.get(f"/api/v1/{path}", HTTP_AUTHORIZATION=self.auth)

    def send(self, method: str, path: str, data: dict):
        call = getattr(self.client, method)
        return call(
            f"/api/v1/{path}",
            data=data,
            content_type="application/json",
            HTTP_AUTHORIZATION=self.auth,
        )


def api_for(client: Client, world: World, person) -> Api:
    tenancy.activate(world.practice_a.pk, person.pk)
    _token, plaintext = accounts.api_token_create(
        person=person, practice=world.practice_a, name="t"
    )
    return Api(client, plaintext)


@pytest.fixture
def alice(client: Client, world: World) -> Api:
    return api_for(client, world, world.alice)


@pytest.fixture
def sam(client: Client, world: World) -> Api:
    return api_for(Client(), world, world.sam)


def test_writing_and_reading_a_consultation(alice: Api, world: World) -> None:
    created = alice.send(
        "post", f"patients/{world.paul.pk}/encounters/", {"reason": "Fièvre", "subjective": "39°C"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["reason"], body["author"], body["version"]) == ("Fièvre", world.alice.pk, 1)
    listed = alice.get(f"patients/{world.paul.pk}/encounters/").json()
    assert [e["reason"] for e in listed] == ["Fièvre"]


def test_a_correction_needs_the_version_and_a_conflict_is_409(alice: Api, world: World) -> None:
    entry = alice.send("post", f"patients/{world.paul.pk}/problems/", {"label": "HTA"}).json()
    path = f"patients/{world.paul.pk}/problems/{entry['id']}/"
    ok = alice.send(
        "patch", path, {"version": 1, "reason": "précision", "label": "HTA essentielle"}
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = alice.send("patch", path, {"version": 1, "reason": "autre", "label": "HTA secondaire"})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    missing = alice.send("patch", path, {"label": "x"})
    assert missing.status_code == 400 and set(missing.json()["error"]["fields"]) == {
        "version",
        "reason",
    }


def test_removal_is_entered_in_error_and_hidden(alice: Api, world: World) -> None:
    entry = alice.send(
        "post", f"patients/{world.paul.pk}/allergies/", {"substance": "Latex"}
    ).json()
    path = f"patients/{world.paul.pk}/allergies/{entry['id']}/"
    assert (
        alice.send("delete", path, {"version": 1, "reason": "mauvais patient"}).status_code == 204
    )
    assert alice.get(f"patients/{world.paul.pk}/allergies/").json() == []


def test_a_prescription_and_its_pdf(alice: Api, world: World) -> None:
    created = alice.send(
        "post",
        f"patients/{world.paul.pk}/prescriptions/",
        {
            "items": [
                {"drug_label": "Ibuprofène 400 mg", "posology": "1 cp x3/j", "duration_days": 3}
            ],
        },
    )
    assert created.status_code == 201, created.content
    pdf = alice.get(f"patients/{world.paul.pk}/prescriptions/{created.json()['id']}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_bad_input_gets_field_errors_and_nothing_is_stored(alice: Api, world: World) -> None:
    response = alice.send(
        "post",
        "patients/",
        {
            "birth_name": "X",
            "given_names": "Y",
            "sex": "F",
            "birth_date": "1980-01-01",
            "nir": "280017512345678",
        },
    )
    assert response.status_code == 400
    assert "nir" in response.json()["error"]["fields"]
    response = alice.send("post", f"patients/{world.paul.pk}/encounters/", {"reason": ""})
    assert response.status_code == 400
    assert not Encounter.objects.exists()


def test_a_malformed_json_body_is_a_400(alice: Api, world: World) -> None:
    response = alice.client.post(
        f"/api/v1/patients/{world.paul.pk}/encounters/",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=alice.auth,
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400


def test_a_secretary_cannot_read_a_note_through_the_api(sam: Api, alice: Api, world: World) -> None:
    alice.send(
        "post", f"patients/{world.paul.pk}/encounters/", {"reason": "Suivi", "subjective": "SECRET"}
    )
    assert sam.get(f"patients/{world.paul.pk}/encounters/").status_code == 403
    chart = sam.get(f"patients/{world.paul.pk}/chart/").json()
    assert chart["clinical_allowed"] is False and chart["encounters"] == []
    assert "SECRET" not in str(chart)
    assert AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).exists()


def test_another_practitioner_is_refused_and_audited(client: Client, world: World) -> None:
    bob = api_for(client, world, world.bob)
    assert bob.get(f"patients/{world.paul.pk}/encounters/").status_code == 403
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.bob.pk).latest("seq")
    assert denial.patient_id == world.paul.pk


def test_another_practice_patient_is_not_found(alice: Api, world: World) -> None:
    assert alice.get(f"patients/{world.zoe.pk}/chart/").status_code == 404
    assert (
        alice.send("post", f"patients/{world.zoe.pk}/encounters/", {"reason": "x"}).status_code
        == 404
    )


def test_the_access_report_in_json(sam: Api, alice: Api, world: World) -> None:
    alice.get(f"patients/{world.paul.pk}/chart/")
    lines = sam.get(f"patients/{world.paul.pk}/access-report/").json()
    opened = [line for line in lines if line["who"].startswith("Dr Alice Arnaud, ")]
    assert [line["what"] for line in opened] == [
        "a ouvert votre dossier depuis un logiciel relié au cabinet"
    ]
    assert opened[0]["why"] == "pour vos soins"


def test_the_openapi_schema_describes_the_records_api(client: Client, db: None) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/chart/",
        "/api/v1/patients/{patient_id}/encounters/{entry_id}/",
        "/api/v1/patients/{patient_id}/prescriptions/",
    ):
        assert path in paths
    assert client.get("/api/docs/").status_code == 200


def test_uploading_a_document_through_the_api(alice: Api, world: World, settings, tmp_path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    pdf = b"%PDF-1.4\n%test\n"
    response = alice.client.post(
        f"/api/v1/patients/{world.paul.pk}/documents/",
        {
            "file": SimpleUploadedFile("cr.pdf", pdf),
            "title": "CR",
            "kind": "report",
            "document_date": "2026-11-01",
        },
        HTTP_AUTHORIZATION=alice.auth,
    )
    assert response.status_code == 201, response.content
    document_id = response.json()["id"]
    file = alice.get(f"patients/{world.paul.pk}/documents/{document_id}/file/")
    assert b"".join(file.streaming_content) == pdf
    bad = alice.client.post(
        f"/api/v1/patients/{world.paul.pk}/documents/",
        {
            "file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf"),
            "title": "X",
            "kind": "report",
            "document_date": "2026-11-01",
        },
        HTTP_AUTHORIZATION=alice.auth,
    )
    assert bad.status_code == 400 and "file" in bad.json()["error"]["fields"]


def test_a_letter_through_the_api(alice: Api, world: World) -> None:
    response = alice.send(
        "post",
        f"patients/{world.paul.pk}/letters/",
        {
            "title": "Adressage",
            "recipient": "Dr X",
            "body": "Cher confrère",
            "document_date": "2026-11-01",
        },
    )
    assert response.status_code == 201 and response.json()["kind"] == "letter"


def test_recording_an_exclusion_through_the_api_applies_at_once(
    sam: Api, client: Client, world: World
) -> None:
    created = sam.send(
        "post",
        f"patients/{world.paul.pk}/exclusions/",
        {"person": world.alice.pk, "source": "formulaire n° 7"},
    )
    assert created.status_code == 201
    alice = api_for(Client(), world, world.alice)
    assert alice.get(f"patients/{world.paul.pk}/chart/").status_code == 403
    lifted = sam.send("delete", f"patients/{world.paul.pk}/exclusions/{created.json()['id']}/", {})
    assert lifted.status_code == 204
    assert alice.get(f"patients/{world.paul.pk}/chart/").status_code == 200


def test_emergency_access_through_the_api(client: Client, world: World) -> None:
    bob = api_for(client, world, world.bob)
    assert bob.get(f"patients/{world.paul.pk}/encounters/").status_code == 403
    short = bob.send("post", f"patients/{world.paul.pk}/break-glass/", {"reason": "urgence"})
    assert short.status_code == 400
    opened = bob.send(
        "post",
        f"patients/{world.paul.pk}/break-glass/",
        {"reason": "Détresse respiratoire, médecin traitant absent", "minutes": 60},
    )
    assert opened.status_code == 201
    assert bob.get(f"patients/{world.paul.pk}/encounters/").status_code == 200
