"""Every patient-data path goes through the policy and the audit trail, with negative
cases: another practice, another practitioner, a secretary on clinical content."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client

from core.access.policy import Category
from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from records import selectors, services
from tests.fixtures import World, enroll, totp_code


def login(client: Client, username: str, person) -> Client:
    device = enroll(person)
    client.post("/connexion/", {"username": username, "password": "correct horse battery staple"})
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


def test_reading_a_patient_is_audited_with_who_what_why(world: World) -> None:
    actor = world.actor(world.alice)
    selectors.patient_get(actor=actor, patient_id=world.paul.pk)
    event = AuditEvent.objects.filter(action="patient.read").latest("seq")
    assert (event.actor_id, event.patient_id, event.category, event.purpose, event.outcome) == (
        world.alice.pk,
        world.paul.pk,
        "identity",
        "care",
        "success",
    )


def test_another_practice_patient_does_not_exist_for_the_actor(world: World) -> None:
    actor = world.actor(world.charlie, world.practice_b)
    with pytest.raises(Http404):
        selectors.patient_get(actor=actor, patient_id=world.paul.pk)


def test_another_practitioner_is_refused_clinical_data_and_it_is_audited(world: World) -> None:
    actor = world.actor(world.bob)
    with pytest.raises(AccessDenied):
        selectors.patient_get(actor=actor, patient_id=world.paul.pk, category=Category.CLINICAL)
    event = AuditEvent.objects.filter(action="access.denied").latest("seq")
    assert (event.actor_id, event.patient_id, event.outcome) == (
        world.bob.pk,
        world.paul.pk,
        "denied",
    )
    assert event.details["rule"] == "not-in-care-team"


def test_a_secretary_is_refused_clinical_data(world: World) -> None:
    actor = world.actor(world.sam)
    with pytest.raises(AccessDenied):
        selectors.patient_get(actor=actor, patient_id=world.paul.pk, category=Category.CLINICAL)


def test_the_search_only_finds_the_practice_patients(world: World) -> None:
    actor = world.actor(world.alice)
    assert [p.birth_name for p in selectors.patient_search(actor=actor, query="")] == ["Dupont"]
    assert list(selectors.patient_search(actor=actor, query="zola")) == []
    assert AuditEvent.objects.filter(action="patient.search").count() == 2


def test_the_search_ignores_accents_and_case(world: World) -> None:
    actor = world.actor(world.charlie, world.practice_b)
    assert [p.given_names for p in selectors.patient_search(actor=actor, query="ZOE zola")] == [
        "Zoé"
    ]


def test_a_duplicate_nir_is_refused_and_nothing_is_stored(world: World) -> None:
    actor = world.actor(world.sam)
    before = AuditEvent.objects.filter(action="patient.create").count()
    with pytest.raises(ValidationError):
        services.patient_create(
            actor=actor,
            birth_name="Dupont",
            given_names="Paul",
            sex=world.paul.sex,
            birth_date=world.paul.birth_date,
            nir=world.paul.nir,
        )
    assert AuditEvent.objects.filter(action="patient.create").count() == before


def test_a_node_admin_cannot_register_a_patient(world: World) -> None:
    world.bob.is_node_admin = True
    actor = world.actor(world.bob)
    with pytest.raises(AccessDenied):
        services.patient_create(
            actor=actor, birth_name="X", given_names="Y", sex="F", birth_date=world.paul.birth_date
        )


def test_the_patient_page_shows_identity_and_refuses_clinical_to_bob(
    client: Client, world: World
) -> None:
    response = login(client, "bob", world.bob).get(f"/p/cabinet-a/patients/{world.paul.pk}/")
    assert response.status_code == 200
    assert "DUPONT Paul" in response.content.decode()
    assert b'data-testid="clinical-refused"' in response.content


def test_the_patient_page_of_another_practice_is_refused(client: Client, world: World) -> None:
    response = login(client, "alice", world.alice).get(f"/p/cabinet-b/patients/{world.zoe.pk}/")
    assert response.status_code == 403


def test_a_patient_id_of_another_practice_is_not_found_in_my_practice(
    client: Client, world: World
) -> None:
    response = login(client, "alice", world.alice).get(f"/p/cabinet-a/patients/{world.zoe.pk}/")
    assert response.status_code == 404
