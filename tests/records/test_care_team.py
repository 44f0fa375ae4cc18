"""The patient's care team pages: the list on the chart and on its own page, adding and
removing a member (audited ``care_team.add`` / ``care_team.remove``), and the refusals:
not a practitioner of the practice, another practice, a person the patient excluded, a
practice administrator with no other role, the GP of record."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from core import tenancy
from core.access import choices
from core.accounts.models import Membership
from core.audit.models import AuditEvent
from core.practices.models import CareTeamMode, Practice
from records import services
from records.models import CareTeamMember
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World, enroll, totp_code


def login(client: Client, person) -> Client:
    device = enroll(person)
    client.post(
        "/connexion/", {"username": person.username, "password": "correct horse battery staple"}
    )
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def team_url(world: World, rest: str = "", practice=None) -> str:
    practice = practice or world.practice_a
    return f"/p/{practice.slug}/patients/{world.paul.pk}/equipe/{rest}"


def team_of_paul(world: World) -> set[int]:
    tenancy.activate(world.practice_a.pk)
    return set(CareTeamMember.objects.filter(patient=world.paul).values_list("person", flat=True))


def test_the_chart_lists_the_team_with_add_and_remove(client: Client, world: World) -> None:
    login(client, world.alice)
    page = text(client.get(f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/"))
    assert 'data-testid="care-team"' in page
    assert "Dr Alice Arnaud" in page and "Médecin traitant" in page
    assert "Ajouter" in page and "Dr Bob Blanc" in page  # Bob is offered
    assert "pour l'en retirer, changez de médecin traitant" in page


def test_a_secretary_adds_a_gp_who_then_reads_the_record_and_both_are_audited(
    client: Client, world: World
) -> None:
    login(client, world.sam)
    response = client.post(team_url(world, "ajouter/"), {"person": world.bob.pk, "back": "chart"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/patients/{world.paul.pk}/")
    assert world.bob.pk in team_of_paul(world)
    event = AuditEvent.objects.get(action="care_team.add")
    assert (event.actor_id, event.patient_id, event.target, event.outcome) == (
        world.sam.pk,
        world.paul.pk,
        f"person:{world.bob.pk}",
        "success",
    )
    bob = login(Client(), world.bob)
    chart = text(bob.get(f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/"))
    assert 'data-testid="clinical-refused"' not in chart


def test_removing_a_member_is_audited_and_takes_effect(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    CareTeamMember.objects.create(practice=world.practice_a, patient=world.paul, person=world.bob)
    tenancy.activate(None)
    login(client, world.sam)
    response = client.post(team_url(world, "retirer/"), {"person": world.bob.pk})
    assert response.status_code == 302
    assert world.bob.pk not in team_of_paul(world)
    event = AuditEvent.objects.get(action="care_team.remove")
    assert (event.patient_id, event.target) == (world.paul.pk, f"person:{world.bob.pk}")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Pour l'en retirer, changez de médecin traitant"),
        ("en", "To take them out, change the GP of record"),
    ],
)
def test_the_gp_of_record_is_not_removed_here(
    client: Client, world: World, language: str, message: str
) -> None:
    login(client, world.sam)
    response = client.post(
        team_url(world, "retirer/"), {"person": world.alice.pk}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    assert message in text(response)
    assert world.alice.pk in team_of_paul(world)
    assert not AuditEvent.objects.filter(action="care_team.remove").exists()


def _not_a_practitioner_of_practice_a(world: World, kind: str) -> int:
    if kind == "secretary":
        return world.sam.pk
    if kind == "other practice":
        return world.charlie.pk
    tenancy.activate(world.practice_a.pk)
    person = PersonFactory(username=f"gone-{kind.replace(' ', '-')}")
    MembershipFactory(practice=world.practice_a, person=person, role="practitioner")
    if kind == "deactivated person":
        person.is_active = False
        person.save(update_fields=["is_active"])
    else:  # a deactivated role in the practice
        Membership.objects.filter(person=person).update(is_active=False)
    tenancy.activate(None)
    return person.pk


@pytest.mark.parametrize(
    "kind", ["secretary", "deactivated person", "deactivated role", "other practice"]
)
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Seul un praticien en activité de ce cabinet peut faire partie"),
        ("en", "Only an active practitioner of this practice can join"),
    ],
)
def test_only_an_active_practitioner_of_the_practice_can_be_added(
    client: Client, world: World, kind: str, language: str, message: str
) -> None:
    person_id = _not_a_practitioner_of_practice_a(world, kind)
    login(client, world.alice)
    response = client.post(
        team_url(world, "ajouter/"), {"person": person_id}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    assert message in text(response)
    assert person_id not in team_of_paul(world)
    assert not AuditEvent.objects.filter(action="care_team.add").exists()


def test_the_service_refuses_a_secretary_too(world: World) -> None:
    from django.core.exceptions import ValidationError

    sam = world.actor(world.sam)
    with pytest.raises(ValidationError):
        services.care_team_add(actor=sam, patient=world.paul, person_id=world.sam.pk)
    assert world.sam.pk not in team_of_paul(world)


def test_a_patient_of_another_practice_is_not_found(client: Client, world: World) -> None:
    login(client, world.charlie)
    url = team_url(world, "ajouter/", practice=world.practice_b)
    assert client.post(url, {"person": world.charlie.pk}).status_code == 404
    assert client.get(team_url(world, practice=world.practice_b)).status_code == 404
    assert world.charlie.pk not in team_of_paul(world)


def test_a_person_the_patient_excluded_cannot_change_the_team(client: Client, world: World) -> None:
    sam = world.actor(world.sam)
    choices.restriction_add(
        actor=sam, patient_id=world.paul.pk, person_id=world.bob.pk, source="formulaire 5"
    )
    tenancy.activate(None)
    login(client, world.bob)
    assert client.post(team_url(world, "ajouter/"), {"person": world.bob.pk}).status_code == 403
    assert client.get(team_url(world)).status_code == 403
    assert world.bob.pk not in team_of_paul(world)
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=world.bob.pk)
    assert denied.latest("seq").details["rule"] == "excluded-by-patient"


def test_a_practice_admin_without_another_role_reads_the_team_but_cannot_change_it(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_a.pk)
    pia = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=world.practice_a, person=pia, role="practice_admin")
    tenancy.activate(None)
    login(client, pia)
    page = client.get(team_url(world))
    assert page.status_code == 200 and "Dr Alice Arnaud" in text(page)
    assert "Ajouter" not in text(page)
    assert client.post(team_url(world, "ajouter/"), {"person": world.bob.pk}).status_code == 403
    assert world.bob.pk not in team_of_paul(world)
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=pia.pk).latest("seq")
    assert denied.details["rule"] == "role"


def test_in_practice_mode_the_page_lists_every_clinician_and_offers_no_change(
    client: Client, world: World
) -> None:
    Practice.objects.filter(pk=world.practice_a.pk).update(care_team_mode=CareTeamMode.PRACTICE)
    sam = world.actor(world.sam)
    choices.restriction_add(
        actor=sam, patient_id=world.paul.pk, person_id=world.bob.pk, source="formulaire 6"
    )
    tenancy.activate(None)
    login(client, world.sam)
    page = text(client.get(team_url(world)))
    assert 'data-testid="practice-team"' in page
    assert "Dr Alice Arnaud" in page and "Dr Bob Blanc" in page
    assert "exclu par le patient" in page  # Bob is in the team, and excluded
    assert "Ajouter" not in page and "Retirer" not in page
    response = client.post(team_url(world, "ajouter/"), {"person": world.bob.pk})
    assert response.status_code == 400
    assert "il n'y a pas d'équipe nommée à modifier" in text(response)
    assert not AuditEvent.objects.filter(action="care_team.add").exists()


def test_reading_the_team_page_is_audited(client: Client, world: World) -> None:
    login(client, world.sam)
    assert client.get(team_url(world)).status_code == 200
    event = AuditEvent.objects.filter(action="patient.read", actor_id=world.sam.pk).latest("seq")
    assert (event.patient_id, event.category) == (world.paul.pk, "administrative")
