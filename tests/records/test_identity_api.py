"""Correcting a patient's identity through the REST API: PATCH on the patient, with the
version it starts from and a reason; the same checks, history and audit as the page."""

from __future__ import annotations

from django.test import Client

from core import tenancy
from core.access import choices
from core.audit.models import AuditEvent
from records.models import IdentityChange, Patient
from tests.factories import MembershipFactory, PatientFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_api import Api, api_for


def path(patient: Patient) -> str:
    return f"patients/{patient.pk}/"


def test_a_patch_corrects_the_identity_and_keeps_the_old_values(
    client: Client, world: World
) -> None:
    sam = api_for(client, world, world.sam)
    response = sam.send(
        "patch",
        path(world.paul),
        {"version": 1, "reason": "Carte Vitale vue", "address": "2 quai Saint-Antoine"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["address"], body["version"]) == ("2 quai Saint-Antoine", 2)
    tenancy.activate(world.practice_a.pk)
    change = IdentityChange.objects.get()
    assert change.changes == {"address": ["", "2 quai Saint-Antoine"]}
    assert change.reason == "Carte Vitale vue"
    event = AuditEvent.objects.get(action="patient.identity_corrected")
    assert (event.actor_id, event.patient_id, event.details) == (
        world.sam.pk,
        world.paul.pk,
        {"fields": ["address"]},
    )


def test_a_patch_accepts_a_nir_with_spaces(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    paul = Patient.objects.get(pk=world.paul.pk)
    current = paul.nir
    paul.nir = ""
    paul.save(update_fields=["nir"])
    spaced = " ".join([current[:1], current[1:3], current[3:5], current[5:7], current[7:]])
    sam = api_for(client, world, world.sam)
    response = sam.send(
        "patch", path(world.paul), {"version": 1, "reason": "Carte Vitale", "nir": spaced}
    )
    assert response.status_code == 200, response.content
    assert response.json()["nir"] == current


def test_a_stale_patch_is_a_409(client: Client, world: World) -> None:
    sam = api_for(client, world, world.sam)
    first = {"version": 1, "reason": "déménagement", "city": "Villeurbanne"}
    assert sam.send("patch", path(world.paul), first).status_code == 200
    again = sam.send("patch", path(world.paul), {**first, "city": "Bron"})
    assert again.status_code == 409
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).city == "Villeurbanne"


def test_bad_patches_are_clear_400s_in_both_languages_and_store_nothing(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_a.pk)
    other = PatientFactory(practice=world.practice_a, birth_name="Autre")
    sam = api_for(client, world, world.sam)
    cases = [
        ({"version": 1, "reason": "", "city": "Bron"}, "reason"),
        ({"version": 1, "city": "Bron"}, "reason"),
        ({"version": 1, "reason": "erreur", "nir": "185057800608492"}, "nir"),
        ({"version": 1, "reason": "erreur", "nir": other.nir}, "nir"),
        ({"version": 1, "reason": "erreur", "birth_date": "2999-01-01"}, "birth_date"),
        ({"version": "x", "reason": "erreur"}, "version"),
        ({"version": 1, "reason": "erreur", "sex": "Z"}, "sex"),
    ]
    for body, field in cases:
        response = sam.send("patch", path(world.paul), body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.content.decode(), (body, response.content)
    english = sam.client.patch(
        f"/api/v1/{path(world.paul)}",
        data={"version": 1, "reason": "erreur", "nir": other.nir},
        content_type="application/json",
        HTTP_AUTHORIZATION=sam.auth,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "A patient with this NIR is already registered." in english.content.decode()
    french = sam.send("patch", path(world.paul), {"version": 1, "reason": "x", "nir": other.nir})
    assert "Un patient avec ce NIR est déjà enregistré." in french.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.get(pk=world.paul.pk).version == 1
    assert not IdentityChange.objects.exists()


def test_a_patch_on_another_practice_patient_is_not_found(client: Client, world: World) -> None:
    sam = api_for(client, world, world.sam)
    body = {"version": 1, "reason": "erreur", "city": "Bron"}
    assert sam.send("patch", path(world.zoe), body).status_code == 404


def test_a_patch_by_a_person_the_patient_excluded_is_refused_and_audited(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.sam.pk,
        source="formulaire signé",
    )
    sam = api_for(client, world, world.sam)
    response = sam.send("patch", path(world.paul), {"version": 1, "reason": "x", "city": "Bron"})
    assert response.status_code == 403
    tenancy.activate(world.practice_a.pk)
    assert AuditEvent.objects.filter(
        action="access.denied", actor_id=world.sam.pk, patient_id=world.paul.pk
    ).exists()
    assert Patient.objects.get(pk=world.paul.pk).city != "Bron"


def test_a_practice_admin_cannot_patch_the_identity(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    pia = PersonFactory(username="pia")
    MembershipFactory(practice=world.practice_a, person=pia, role="practice_admin")
    admin: Api = api_for(client, world, pia)
    assert admin.get(path(world.paul)).status_code == 200
    response = admin.send("patch", path(world.paul), {"version": 1, "reason": "x", "city": "Bron"})
    assert response.status_code == 403


def test_the_openapi_schema_declares_the_patch(client: Client, db: None) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    patch = schema["paths"]["/api/v1/patients/{patient_id}/"]["patch"]
    conflict = patch["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert conflict.endswith("/Error")  # the one error shape, with a body
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("PatientCorrectionInput")
