"""The practice's care-team setting page: every member sees it and prints the notice for
the waiting room; only a practice administrator changes it, after a confirmation, and
the change is audited with the old and the new setting."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from core import tenancy
from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from core.practices.models import CareTeamMode, Practice
from core.practices.services import practice_care_team_mode_set
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World, enroll, totp_code


def login(client: Client, person) -> Client:
    device = enroll(person)
    client.post(
        "/connexion/", {"username": person.username, "password": "correct horse battery staple"}
    )
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


@pytest.fixture
def pia(world: World):
    """The practice administrator of practice A, with no other role."""
    tenancy.activate(world.practice_a.pk)
    person = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return person


def page(world: World) -> str:
    return f"/p/{world.practice_a.slug}/equipe-de-soins/"


def mode_of(world: World) -> str:
    return Practice.objects.get(pk=world.practice_a.pk).care_team_mode


def pdf_text(content: bytes) -> str:
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def test_a_practice_admin_changes_the_setting_after_a_confirmation_and_it_is_audited(
    client: Client, world: World, pia
) -> None:
    login(client, pia)
    response = client.post(page(world), {"mode": "practice"})
    assert response.status_code == 200
    confirmation = response.content.decode()
    assert 'data-testid="confirmation"' in confirmation
    assert "sans accès d&#x27;urgence" in confirmation or "sans accès d'urgence" in confirmation
    assert mode_of(world) == CareTeamMode.NAMED  # nothing changed before the confirmation
    assert not AuditEvent.objects.filter(action="practice.care_team_mode_changed").exists()

    response = client.post(page(world), {"mode": "practice", "confirmed": "on"})
    assert response.status_code == 302
    assert mode_of(world) == CareTeamMode.PRACTICE
    event = AuditEvent.objects.get(action="practice.care_team_mode_changed")
    assert (event.actor_id, event.practice_id, event.details) == (
        pia.pk,
        world.practice_a.pk,
        {"old": "named", "new": "practice"},
    )
    assert "Tous les soignants du cabinet sont dans l" in client.get(page(world)).content.decode()


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_a_practitioner_or_a_secretary_sees_the_setting_but_cannot_change_it(
    client: Client, world: World, who: str
) -> None:
    login(client, getattr(world, who))
    shown = client.get(page(world))
    assert shown.status_code == 200
    assert "Seul un administrateur du cabinet peut modifier ce réglage." in shown.content.decode()
    refused = client.post(page(world), {"mode": "practice", "confirmed": "on"})
    assert refused.status_code == 403
    assert mode_of(world) == CareTeamMode.NAMED
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=getattr(world, who).pk)
    assert denied.latest("seq").details["rule"] == "not-practice-admin"


def test_the_service_refuses_anyone_but_a_practice_admin(world: World) -> None:
    alice = world.actor(world.alice)
    with pytest.raises(AccessDenied):
        practice_care_team_mode_set(actor=alice, practice=world.practice_a, mode="practice")
    assert mode_of(world) == CareTeamMode.NAMED


def test_a_practice_admin_of_another_practice_does_not_reach_the_page(
    client: Client, world: World
) -> None:
    tenancy.activate(world.practice_b.pk)
    other = PersonFactory(username="odile")
    MembershipFactory(practice=world.practice_b, person=other, role="practice_admin")
    tenancy.activate(None)
    login(client, other)
    assert client.post(page(world), {"mode": "practice", "confirmed": "on"}).status_code == 403
    assert mode_of(world) == CareTeamMode.NAMED


@pytest.mark.parametrize(
    ("language", "message"),
    [("fr", "Sélectionnez un choix valide"), ("en", "Select a valid choice")],
)
def test_an_unknown_setting_is_a_clear_error_in_both_languages(
    client: Client, world: World, pia, language: str, message: str
) -> None:
    login(client, pia)
    response = client.post(
        page(world), {"mode": "everyone", "confirmed": "on"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert mode_of(world) == CareTeamMode.NAMED


def test_choosing_the_same_setting_changes_and_audits_nothing(
    client: Client, world: World, pia
) -> None:
    login(client, pia)
    response = client.post(page(world), {"mode": "named", "confirmed": "on"})
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="practice.care_team_mode_changed").exists()


@pytest.mark.parametrize("mode", [CareTeamMode.PRACTICE, CareTeamMode.NAMED])
def test_the_notice_names_the_clinicians_and_the_right_to_say_no(
    client: Client, world: World, mode: str
) -> None:
    Practice.objects.filter(pk=world.practice_a.pk).update(care_team_mode=mode)
    tenancy.activate(world.practice_a.pk)
    nurse = PersonFactory(username="ines", full_name="Inès Infirmière", profession="nurse")
    MembershipFactory(practice=world.practice_a, person=nurse, role="practitioner")
    gone = PersonFactory(username="gaston", full_name="Dr Gaston Parti", is_active=False)
    MembershipFactory(practice=world.practice_a, person=gone, role="practitioner")
    tenancy.activate(None)
    login(client, world.sam)  # the desk prints it
    response = client.get(page(world) + "affiche.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Votre équipe de soins" in text
    for name, profession in (
        ("Dr Alice Arnaud", "Médecin généraliste"),
        ("Dr Bob Blanc", "Médecin généraliste"),
        ("Inès Infirmière", "Infirmier"),
    ):
        assert name in text and profession in text
    assert "Dr Gaston Parti" not in text and "Sam Simon" not in text  # not clinicians
    assert "Vous pouvez dire non" in text and "même votre médecin traitant" in text
    assert "Dites-le simplement à l'accueil" in text
    wide = "forment ensemble votre équipe de soins" in text
    assert wide == (mode == CareTeamMode.PRACTICE)
    assert AuditEvent.objects.filter(action="practice.care_team_notice.print").exists()


def test_a_practice_created_without_saying_keeps_a_named_team(db: None) -> None:
    from core.practices.services import practice_create

    practice = practice_create(slug="nouveau-cabinet", name="Nouveau cabinet")
    assert practice.care_team_mode == CareTeamMode.NAMED
    tenancy.activate(practice.pk)
    event = AuditEvent.objects.get(action="practice.create", practice_id=practice.pk)
    assert event.details == {"care_team_mode": "named"}
