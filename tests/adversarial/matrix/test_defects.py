"""Defects the authorization matrix found, each pinned by a focused test."""

from __future__ import annotations

from django.test import Client

from core import tenancy
from core.accounts import services as accounts
from records.models import Encounter
from tests.fixtures import World


def _token(world: World, person) -> str:  # type: ignore[no-untyped-def]
    tenancy.activate(world.practice_a.pk, person.pk)
    _token, plaintext = accounts.api_token_create(
        person=person, practice=world.practice_a, name="t"
    )
    tenancy.activate(None)
    return plaintext


def test_correcting_a_consultation_through_the_api_is_not_a_500(world: World) -> None:
    """The correction's "reason" and the consultation's own "reason" field share a name:
    the API passed it twice to the service (TypeError, 500)."""
    client = Client(raise_request_exception=False)
    auth = f"Bearer {_token(world, world.alice)}"
    created = client.post(
        f"/api/v1/patients/{world.paul.pk}/encounters/",
        data={"reason": "Fièvre"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert created.status_code == 201, created.content
    entry = created.json()
    corrected = client.patch(
        f"/api/v1/patients/{world.paul.pk}/encounters/{entry['id']}/",
        data={"version": 1, "reason": "faute de frappe", "plan": "repos"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert corrected.status_code == 200, corrected.content
    assert (corrected.json()["version"], corrected.json()["plan"]) == (2, "repos")
    tenancy.activate(world.practice_a.pk)
    saved = Encounter.objects.get(pk=entry["id"])
    assert (saved.reason, saved.plan) == ("Fièvre", "repos")


def test_a_patient_who_excluded_a_person_is_not_in_their_search(world: World) -> None:
    """The exclusion covers identity too (docs §7): the search listed the patient."""
    from core.access import choices

    sam = world.actor(world.sam)
    choices.restriction_add(
        actor=sam, patient_id=world.paul.pk, person_id=world.bob.pk, source="formulaire 3"
    )
    tenancy.activate(None)
    client = Client(raise_request_exception=False)
    for person, listed in ((world.bob, False), (world.alice, True)):
        found = client.get(
            "/api/v1/patients/?q=Dupont", HTTP_AUTHORIZATION=f"Bearer {_token(world, person)}"
        )
        assert found.status_code == 200, found.content
        assert (world.paul.pk in [p["id"] for p in found.json()]) is listed, person


def _api(world: World, person) -> tuple[Client, str]:  # type: ignore[no-untyped-def]
    return Client(raise_request_exception=False), f"Bearer {_token(world, person)}"


def _denials(world: World, person) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    from core.audit.models import AuditEvent

    tenancy.activate(world.practice_a.pk)
    return list(
        AuditEvent.objects.filter(actor_id=person.pk, outcome="denied").values_list(
            "action", "patient_id"
        )
    )


def test_a_secretary_refused_emergency_access_is_audited(world: World) -> None:
    client, auth = _api(world, world.sam)
    response = client.post(
        f"/api/v1/patients/{world.paul.pk}/break-glass/",
        data={"reason": "urgence vitale pendant la garde"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 403
    assert ("access.denied", world.paul.pk) in _denials(world, world.sam)


def test_lifting_an_exclusion_about_oneself_is_refused_and_audited(world: World) -> None:
    from core.access import choices

    restriction = choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.sam.pk,
        entry_type="problem",
        entry_id=1,
        source="formulaire 4",
    )
    tenancy.activate(None)
    client, auth = _api(world, world.sam)
    response = client.delete(
        f"/api/v1/patients/{world.paul.pk}/exclusions/{restriction.pk}/",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 403
    assert ("access.denied", world.paul.pk) in _denials(world, world.sam)


def test_the_author_who_left_the_care_team_no_longer_corrects_through_the_api(
    world: World,
) -> None:
    """docs §5: a correction needs write on the record and on the entry; the API asked
    only the entry, where the author rule let a former member of the team in."""
    from records.models import CareTeamMember

    tenancy.activate(world.practice_a.pk)
    member = CareTeamMember.objects.create(
        practice=world.practice_a, patient=world.paul, person_id=world.bob.pk
    )
    client, auth = _api(world, world.bob)
    created = client.post(
        f"/api/v1/patients/{world.paul.pk}/problems/",
        data={"label": "HTA"},
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert created.status_code == 201, created.content
    tenancy.activate(world.practice_a.pk)
    member.delete()
    tenancy.activate(None)
    path = f"/api/v1/patients/{world.paul.pk}/problems/{created.json()['id']}/"
    body = {"version": 1, "reason": "précision", "label": "HTA essentielle"}
    changed = client.patch(
        path, data=body, content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    removed = client.delete(
        path, data=body, content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert (changed.status_code, removed.status_code) == (403, 403)
    assert ("access.denied", world.paul.pk) in _denials(world, world.bob)
