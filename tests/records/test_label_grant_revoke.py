"""A patient withdraws a permission to see a sensitive label: from the patient-choice
page or the API, audited, and refused to that person from their next request on."""

from __future__ import annotations

import pytest
from django.test import Client

from core import tenancy
from core.access import choices
from core.access.models import LabelGrant
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Problem
from tests.fixtures import World
from tests.records.test_api import Api, api_for
from tests.records.test_views import login

SECRET = "Épisode dépressif LABEL-SECRET"


@pytest.fixture
def grant(world: World) -> LabelGrant:
    """Alice writes a mental-health entry in Paul's record; Paul allows Bob to see it."""
    services.entry_create(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        model=Problem,
        label=SECRET,
        code="F32",
        sensitivity="mental_health",
    )
    # Bob reads the clinical record only with emergency access or in the care team: put him
    # in the care team so that the label is the only thing between him and the entry.
    tenancy.activate(world.practice_a.pk, world.sam.pk)
    services.care_team_add(actor=world.actor(world.sam), patient=world.paul, person_id=world.bob.pk)
    return choices.label_grant_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        label="mental_health",
        person_id=world.bob.pk,
        source="formulaire n° 4",
    )


def chart_url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/{rest}"


def revoked_events(world: World) -> list[AuditEvent]:
    tenancy.activate(world.practice_a.pk)
    return list(AuditEvent.objects.filter(action="patient_choice.label_revoked"))


def test_a_grant_withdrawn_on_the_page_takes_effect_on_the_next_request(
    world: World, grant: LabelGrant
) -> None:
    bob_web, bob_api = login(Client(), world.bob), api_for(Client(), world, world.bob)
    assert SECRET in bob_web.get(chart_url(world)).content.decode()
    sam = login(Client(), world.sam)
    page = sam.get(chart_url(world, "choix/")).content.decode()
    assert "Retirer" in page and "Santé mentale" in page
    response = sam.post(
        chart_url(world, f"choix/autorisation/{grant.pk}/retirer/"), {"source": "courrier"}
    )
    assert response.status_code == 302
    # Bob's very next requests, on the page and through the API, no longer show it.
    assert SECRET not in bob_web.get(chart_url(world)).content.decode()
    problems = bob_api.get(f"patients/{world.paul.pk}/problems/").json()
    assert SECRET not in str(problems)
    [event] = revoked_events(world)
    assert (event.actor_id, event.patient_id, event.target) == (
        world.sam.pk,
        world.paul.pk,
        f"person:{world.bob.pk}",
    )
    assert event.details == {"label": "mental_health", "source": "courrier"}
    tenancy.activate(world.practice_a.pk)
    assert LabelGrant.objects.get(pk=grant.pk).revoked_at is not None
    page = sam.get(chart_url(world, "choix/")).content.decode()
    assert "retirée le" in page


def test_a_grant_withdrawn_through_the_api_takes_effect_on_the_next_request(
    world: World, grant: LabelGrant
) -> None:
    bob = api_for(Client(), world, world.bob)
    assert SECRET in str(bob.get(f"patients/{world.paul.pk}/problems/").json())
    alice = api_for(Client(), world, world.alice)
    path = f"patients/{world.paul.pk}/label-grants/{grant.pk}/?source=formulaire"
    tenancy.activate(world.practice_a.pk)
    before = AuditEvent.objects.filter(patient_id=world.paul.pk).count()
    assert alice.send("delete", path, {}).status_code == 204
    tenancy.activate(world.practice_a.pk)
    after = AuditEvent.objects.filter(patient_id=world.paul.pk)
    assert [e.action for e in after.order_by("seq")[before:]] == ["patient_choice.label_revoked"]
    assert SECRET not in str(bob.get(f"patients/{world.paul.pk}/problems/").json())
    # Withdrawing again changes nothing and is not recorded twice.
    assert alice.send("delete", path, {}).status_code == 204
    assert len(revoked_events(world)) == 1


def test_a_secretary_withdraws_it_from_the_paper_form_but_never_sees_the_entry(
    world: World, grant: LabelGrant
) -> None:
    """The desk records the patient's paper form (as it records the permission); a
    secretary reads no clinical entry, with or without the label."""
    sam = api_for(Client(), world, world.sam)
    assert sam.get(f"patients/{world.paul.pk}/problems/").status_code == 403
    path = f"patients/{world.paul.pk}/label-grants/{grant.pk}/"
    assert sam.send("delete", path, {}).status_code == 204
    assert [e.actor_id for e in revoked_events(world)] == [world.sam.pk]


def test_another_practice_cannot_withdraw_it(world: World, grant: LabelGrant) -> None:
    tenancy.activate(world.practice_b.pk, world.charlie.pk)
    from core.accounts import services as accounts

    _token, plaintext = accounts.api_token_create(
        person=world.charlie, practice=world.practice_b, name="t"
    )
    charlie = Api(Client(), plaintext)
    path = f"patients/{world.paul.pk}/label-grants/{grant.pk}/"
    assert charlie.send("delete", path, {}).status_code == 404
    charlie_web = login(Client(), world.charlie)
    withdraw = f"choix/autorisation/{grant.pk}/retirer/"
    page = f"/p/{world.practice_b.slug}/patients/{world.paul.pk}/{withdraw}"
    assert charlie_web.post(page).status_code == 404
    # Through his own patient's address, Paul's grant is not found either.
    own = (
        f"/p/{world.practice_b.slug}/patients/{world.zoe.pk}/choix/autorisation/{grant.pk}/retirer/"
    )
    assert charlie_web.post(own).status_code == 404
    assert revoked_events(world) == []
    tenancy.activate(world.practice_a.pk)
    assert LabelGrant.objects.get(pk=grant.pk).revoked_at is None


def test_a_person_the_patient_excluded_cannot_withdraw_it(world: World, grant: LabelGrant) -> None:
    choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        person_id=world.alice.pk,
        source="formulaire n° 5",
    )
    alice = api_for(Client(), world, world.alice)
    path = f"patients/{world.paul.pk}/label-grants/{grant.pk}/"
    assert alice.send("delete", path, {}).status_code == 403
    assert revoked_events(world) == []
    tenancy.activate(world.practice_a.pk)
    assert AuditEvent.objects.filter(action="access.denied", actor_id=world.alice.pk).exists()
    assert LabelGrant.objects.get(pk=grant.pk).revoked_at is None


def test_a_grant_of_another_patient_is_not_found_through_this_one(
    world: World, grant: LabelGrant
) -> None:
    from tests.factories import PatientFactory

    tenancy.activate(world.practice_a.pk)
    other = PatientFactory(practice=world.practice_a, gp=world.alice, birth_name="Martin")
    alice = api_for(Client(), world, world.alice)
    assert (
        alice.send("delete", f"patients/{other.pk}/label-grants/{grant.pk}/", {}).status_code == 404
    )
    assert revoked_events(world) == []
