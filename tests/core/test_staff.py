"""A practice runs its own staff: invitations, enrolment from the link, roles,
deactivation, second-factor reset and unlocking; only its administrators, all audited;
bad input refused in French and English with nothing stored."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import tenancy
from core.access.services import AccessDenied
from core.accounts import services
from core.accounts.models import ApiToken, Invitation, Membership, Person
from core.accounts.services import staff
from core.audit.models import AuditEvent
from tests.factories import MembershipFactory
from tests.fixtures import PASSWORD, World, b32, enroll, totp_code
from tests.records.test_views import login

NEW_PASSWORD = "un mot de passe assez long"
VALID_RPPS = "10003456786"  # 11 digits, Luhn check digit


@pytest.fixture
def admin(world: World) -> Person:
    """Alice also administers practice A."""
    tenancy.activate(world.practice_a.pk)
    MembershipFactory(practice=world.practice_a, person=world.alice, role="practice_admin")
    tenancy.activate(None)
    return world.alice


def invite(world: World, **fields: object) -> staff.IssuedInvitation:
    actor = world.actor(world.alice)
    data = {"full_name": "Nadia Noël", "username": "nadia.noel", "roles": ["secretary"]}
    data.update(fields)
    return staff.staff_invite(actor=actor, practice=world.practice_a, **data)  # type: ignore[arg-type]


def team(world: World, client: Client) -> str:
    return f"/p/{world.practice_a.slug}/equipe/"


def test_an_admin_invites_a_secretary_who_sets_up_her_account_from_the_link(
    world: World, admin: Person
) -> None:
    issued = invite(world)
    nadia = issued.invitation.person
    assert not nadia.has_usable_password()
    assert Membership.objects.filter(person=nadia, role="secretary", is_active=True).exists()
    assert issued.invitation.expires_at - timezone.now() > timedelta(hours=71)
    assert issued.secret not in issued.invitation.secret_hash  # only a hash is kept
    anonymous = Client()
    page = anonymous.get(reverse("accounts:invitation", args=[issued.secret]))
    assert page.status_code == 200 and "nadia.noel" in page.content.decode()
    device = TOTPDevice.objects.get(user=nadia, confirmed=False)
    done = anonymous.post(
        reverse("accounts:invitation", args=[issued.secret]),
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": totp_code(device)},
    )
    assert done.status_code == 302 and done["Location"] == reverse("accounts:login")
    nadia.refresh_from_db()
    assert nadia.check_password(NEW_PASSWORD)
    assert TOTPDevice.objects.get(user=nadia).confirmed
    # The link works once.
    again = anonymous.get(reverse("accounts:invitation", args=[issued.secret]))
    assert again.status_code == 410 and "déjà servi" in again.content.decode()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"staff.invite", "staff.invitation_accepted", "second_factor.enrolled"} <= actions


def test_a_wrong_code_on_the_invitation_stores_nothing(world: World, admin: Person) -> None:
    issued = invite(world)
    device = services.enrollment_device(issued.invitation.person)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    response = Client().post(
        reverse("accounts:invitation", args=[issued.secret]),
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": wrong},
    )
    assert response.status_code == 400 and "Code incorrect" in response.content.decode()
    person = Person.objects.get(username="nadia.noel")
    assert not person.has_usable_password()
    assert Invitation.objects.get(pk=issued.invitation.pk).used_at is None


def test_an_expired_invitation_is_refused_and_a_new_link_replaces_it(
    world: World, admin: Person
) -> None:
    issued = invite(world)
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = Client().get(reverse("accounts:invitation", args=[issued.secret]))
    assert response.status_code == 410 and "expiré" in response.content.decode()
    with translation.override("en"), pytest.raises(ValidationError, match="expired"):
        staff.invitation_open(issued.secret)
    renewed = staff.staff_reinvite(
        actor=world.actor(world.alice),
        practice=world.practice_a,
        person_id=issued.invitation.person_id,
    )
    assert Client().get(reverse("accounts:invitation", args=[renewed.secret])).status_code == 200
    assert Client().get(reverse("accounts:invitation", args=["not-a-link"])).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "french", "english"),
    [
        ({"username": "bob"}, "username", "déjà pris", "already taken"),
        ({"username": "hugo henré"}, "username", "sans accents", "without accents"),
        (
            {"roles": ["practitioner"], "profession": "gp", "rpps": "10003456781"},
            "rpps",
            "clé de contrôle",
            "check digit",
        ),
        ({"roles": ["practitioner"], "profession": "gp"}, "rpps", "RPPS", "RPPS"),
        ({"roles": []}, "roles", "au moins un rôle", "at least one role"),
        ({"full_name": " "}, "full_name", "nom complet", "full name"),
    ],
)
def test_bad_invitations_get_a_clear_error_in_both_languages_and_store_nothing(
    world: World, admin: Person, fields: dict, field: str, french: str, english: str
) -> None:
    people = Person.objects.count()
    for language, words in (("fr", french), ("en", english)):
        with translation.override(language), pytest.raises(ValidationError) as raised:
            invite(world, **fields)
        assert words in " ".join(raised.value.message_dict[field])
    assert Person.objects.count() == people
    assert not Invitation.objects.exists()


def test_a_practitioner_invited_with_a_valid_rpps(world: World, admin: Person) -> None:
    issued = invite(
        world,
        full_name="Dr Hugo Henry",
        username="hugo.henry",
        roles=["practitioner"],
        profession="gp",
        rpps="1000 3456 786",  # as printed: spaces are dropped
    )
    assert issued.invitation.person.rpps == VALID_RPPS


def test_a_belgian_practitioner_is_invited_with_an_inami_number_not_an_rpps(
    world: World, admin: Person
) -> None:
    """In a Belgian practice the INAMI number identifies a practitioner (no RPPS there);
    it is required, checked for its 11 digits, and nothing is stored when it is wrong."""
    practice = world.practice_a
    practice.country = "BE"  # the practice as the service sees it (not saved)
    hugo = {
        "full_name": "Dr Hugo Henry",
        "username": "hugo.henry",
        "roles": ["practitioner"],
        "profession": "gp",
    }
    actor = world.actor(world.alice)
    people = Person.objects.count()
    for inami, words in (("", "needs their INAMI number"), ("1234", "11 digits")):
        with translation.override("en"), pytest.raises(ValidationError) as raised:
            staff.staff_invite(actor=actor, practice=practice, inami=inami, **hugo)  # type: ignore[arg-type]
        assert words in " ".join(raised.value.message_dict["inami"])
        assert "rpps" not in raised.value.message_dict
    assert Person.objects.count() == people
    issued = staff.staff_invite(actor=actor, practice=practice, inami="1-23456-78-003", **hugo)  # type: ignore[arg-type]
    assert issued.invitation.person.inami == "12345678003"
    assert issued.invitation.person.rpps == ""
    # A French practice still asks for the RPPS.
    practice.country = "FR"
    with pytest.raises(ValidationError) as raised:
        staff.staff_invite(
            actor=actor,
            practice=practice,
            **{**hugo, "username": "ines.iris"},  # type: ignore[arg-type]
        )
    assert "rpps" in raised.value.message_dict


def test_only_the_practice_admins_run_the_team(world: World, admin: Person) -> None:
    for person in (world.bob, world.sam):  # a practitioner, a secretary
        with pytest.raises(AccessDenied):
            staff.staff_invite(
                actor=world.actor(person),
                practice=world.practice_a,
                full_name="X",
                username="x.y",
                roles=["secretary"],
            )
        client = login(Client(), person)
        assert client.get(f"/p/{world.practice_a.slug}/equipe/").status_code == 403
    denied = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk)
    assert denied.exists()
    # Another practice's admin cannot reach practice A's people.
    tenancy.activate(world.practice_b.pk)
    MembershipFactory(practice=world.practice_b, person=world.charlie, role="practice_admin")
    tenancy.activate(None)
    with pytest.raises(Person.DoesNotExist):
        staff.staff_unlock(
            actor=world.actor(world.charlie, world.practice_b),
            practice=world.practice_b,
            person_id=world.bob.pk,
        )
    charlie = login(Client(), world.charlie)
    assert charlie.get(f"/p/{world.practice_a.slug}/equipe/").status_code == 403
    assert charlie.get(f"/p/{world.practice_b.slug}/equipe/{world.bob.pk}/").status_code == 404


def test_a_deactivated_person_is_refused_at_once_by_session_and_token(
    world: World, admin: Person
) -> None:
    bob = login(Client(), world.bob)
    assert bob.get(f"/p/{world.practice_a.slug}/patients/").status_code == 200
    tenancy.activate(world.practice_a.pk, world.bob.pk)
    _token, plaintext = services.api_token_create(
        person=world.bob, practice=world.practice_a, name="poste"
    )
    tenancy.activate(None)
    api = f"/api/v1/patients/{world.paul.pk}/"
    assert Client().get(api, HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code == 200
    alice = login(Client(), world.alice)
    response = alice.post(
        f"/p/{world.practice_a.slug}/equipe/{world.bob.pk}/desactiver/",
        {"reason": "a quitté le cabinet"},
    )
    assert response.status_code == 302
    after = bob.get(f"/p/{world.practice_a.slug}/patients/")
    assert after.status_code == 302 and after["Location"].startswith(reverse("accounts:login"))
    assert Client().get(api, HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code == 401
    world.bob.refresh_from_db()
    assert not world.bob.is_active
    assert ApiToken.objects.get(person=world.bob).revoked_at is not None
    event = AuditEvent.objects.get(action="staff.deactivate")
    assert event.target == f"person:{world.bob.pk}" and event.reason == "a quitté le cabinet"
    # His history stays: Paul's record still names Alice, Bob's account still exists.
    assert Person.objects.filter(pk=world.bob.pk).exists()


def test_an_admin_cannot_deactivate_herself_nor_leave_the_practice_without_admin(
    world: World, admin: Person
) -> None:
    actor = world.actor(world.alice)
    with pytest.raises(ValidationError, match="propre compte"):
        staff.staff_deactivate(
            actor=actor, practice=world.practice_a, person_id=world.alice.pk, reason="test"
        )
    with pytest.raises(ValidationError) as raised:
        staff.staff_set_roles(
            actor=actor,
            practice=world.practice_a,
            person_id=world.alice.pk,
            roles=["practitioner"],
        )
    assert "au moins un administrateur" in str(raised.value)
    with pytest.raises(ValidationError):
        staff.staff_deactivate(
            actor=actor, practice=world.practice_a, person_id=world.bob.pk, reason=" "
        )
    assert Membership.objects.filter(person=world.bob, is_active=True).exists()


def test_roles_change_and_a_deactivated_person_can_come_back(world: World, admin: Person) -> None:
    actor = world.actor(world.alice)
    staff.staff_set_roles(
        actor=actor,
        practice=world.practice_a,
        person_id=world.sam.pk,
        roles=["secretary", "practice_admin"],
    )
    assert set(
        Membership.objects.filter(person=world.sam, is_active=True).values_list("role", flat=True)
    ) == {"secretary", "practice_admin"}
    staff.staff_deactivate(
        actor=actor, practice=world.practice_a, person_id=world.sam.pk, reason="congé long"
    )
    world.sam.refresh_from_db()
    assert not world.sam.is_active
    staff.staff_reactivate(
        actor=actor, practice=world.practice_a, person_id=world.sam.pk, roles=["secretary"]
    )
    world.sam.refresh_from_db()
    assert world.sam.is_active
    changed = AuditEvent.objects.filter(action="staff.roles_changed").first()
    assert changed is not None and changed.details["after"] == ["practice_admin", "secretary"]


def test_a_second_factor_reset_needs_the_admin_code_and_forces_re_enrolment(
    world: World, admin: Person
) -> None:
    alice = login(Client(), world.alice)
    alice_device = TOTPDevice.objects.get(user=world.alice)
    enroll(world.bob)
    url = f"/p/{world.practice_a.slug}/equipe/{world.bob.pk}/second-facteur/"
    wrong = alice.post(
        url, {"admin_code": "000000" if totp_code(alice_device) != "000000" else "1"}
    )
    assert wrong.status_code == 400 and "Code incorrect" in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=world.bob).exists()
    alice_device.refresh_from_db()
    alice_device.throttling_failure_count = 0
    alice_device.throttling_failure_timestamp = None
    alice_device.last_t = -1
    alice_device.save()
    assert alice.post(url, {"admin_code": totp_code(alice_device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.bob).exists()
    # Bob's next login asks him to enroll a new authenticator.
    bob = Client()
    bob.post(reverse("accounts:login"), {"username": "bob", "password": PASSWORD})
    page = bob.get(reverse("accounts:second-factor")).content.decode()
    assert 'data-testid="totp-secret"' in page
    secret = re.search(r'data-testid="totp-secret">([A-Z0-9 ]+)<', page)
    assert secret is not None and b32(TOTPDevice.objects.get(user=world.bob)).startswith(
        secret.group(1).replace(" ", "")[:8]
    )
    assert AuditEvent.objects.filter(action="staff.second_factor_reset").exists()


def test_an_admin_unlocks_an_account_refused_from_an_address(world: World, admin: Person) -> None:
    device = enroll(world.bob)
    attacked = Client(REMOTE_ADDR="192.0.2.44")
    for _ in range(5):
        attacked.post(reverse("accounts:login"), {"username": "bob", "password": "wrong"})
    refused = attacked.post(reverse("accounts:login"), {"username": "bob", "password": PASSWORD})
    assert refused.status_code == 400
    alice = login(Client(), world.alice)
    listing = alice.get(f"/p/{world.practice_a.slug}/equipe/").content.decode()
    assert "verrouillé" in listing
    assert (
        alice.post(f"/p/{world.practice_a.slug}/equipe/{world.bob.pk}/deverrouiller/").status_code
        == 302
    )
    ok = attacked.post(reverse("accounts:login"), {"username": "bob", "password": PASSWORD})
    assert ok.status_code == 302
    assert (
        attacked.post(reverse("accounts:second-factor"), {"code": totp_code(device)}).status_code
        == 302
    )
    assert AuditEvent.objects.filter(action="staff.unlock").exists()


def test_the_invitation_prints_with_its_link_and_qr_code(world: World, admin: Person) -> None:
    from tests.records.test_views import pdf_text

    alice = login(Client(), world.alice)
    response = alice.post(
        f"/p/{world.practice_a.slug}/equipe/inviter/",
        {"full_name": "Nadia Noël", "username": "nadia.noel", "roles": ["secretary"]},
    )
    assert response.status_code == 302
    sheet = alice.get(response["Location"]).content.decode()
    link = re.search(r'data-testid="invitation-link">([^<]+)<', sheet)
    assert link is not None and "/invitation/" in link.group(1)
    pdf = alice.get(response["Location"].rstrip("/") + ".pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Votre accès à Carnet" in text and "nadia.noel" in text
    assert link.group(1).split("/invitation/")[1].rstrip("/")[:10] in text.replace(" ", "")
    # Another session (another admin's) cannot show the secret again.
    other = login(Client(), world.alice)
    assert "/invitation/" not in other.get(response["Location"]).content.decode()


def test_createsuperuser_makes_a_node_and_cooperative_admin_without_patient_access(
    db: None, monkeypatch
) -> None:
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)
    call_command(
        "createsuperuser", interactive=False, username="root.admin", full_name="Admin Nœud"
    )
    person = Person.objects.get(username="root.admin")
    assert person.is_node_admin and person.is_cooperative_admin
    assert not person.memberships.exists()
    assert person.check_password(NEW_PASSWORD)


def _link_path(page: str) -> str:
    """The invitation link a sheet shows, as a path."""
    link = re.search(r'data-testid="invitation-link">([^<]+)<', page)
    assert link is not None, "no link on the sheet"
    return "/invitation/" + link.group(1).split("/invitation/")[1]


def test_a_lost_invitation_is_made_again_and_the_old_link_stops_working(
    world: World, admin: Person
) -> None:
    issued = invite(world)
    nadia = issued.invitation.person
    old = reverse("accounts:invitation", args=[issued.secret])
    alice = login(Client(), world.alice)
    member = f"/p/{world.practice_a.slug}/equipe/{nadia.pk}/"
    # The page says, before the button, that the link handed over stops working.
    page = alice.get(member, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "le lien déjà remis cesse aussitôt de fonctionner" in page
    assert f'action="{member}nouvelle-invitation/"' in page and 'method="post"' in page
    assert alice.get(member + "nouvelle-invitation/").status_code == 405  # a POST only

    response = alice.post(member + "nouvelle-invitation/")
    assert response.status_code == 302 and "/equipe/invitations/" in response["Location"]
    sheet = alice.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    new = _link_path(sheet)
    assert new != old
    pdf = alice.get(response["Location"].rstrip("/") + ".pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"

    refused = Client().get(old, HTTP_ACCEPT_LANGUAGE="fr")
    assert refused.status_code == 404 and "remplacé" in refused.content.decode()
    invited = Client()
    assert invited.get(new).status_code == 200
    device = TOTPDevice.objects.get(user=nadia, confirmed=False)
    done = invited.post(
        new,
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": totp_code(device)},
    )
    assert done.status_code == 302
    nadia.refresh_from_db()
    assert nadia.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="staff.reinvite")
    assert (event.actor_id, event.target, event.practice_id) == (
        world.alice.pk,
        f"person:{nadia.pk}",
        world.practice_a.pk,
    )
    # Once set up, no new link: the page offers none and a forged request is refused.
    assert "nouvelle-invitation" not in alice.get(member).content.decode()
    assert alice.post(member + "nouvelle-invitation/").status_code == 400


def test_a_secretary_or_another_practice_cannot_make_a_new_invitation_link(
    world: World, admin: Person
) -> None:
    issued = invite(world)
    nadia = issued.invitation.person
    url = f"/p/{world.practice_a.slug}/equipe/{nadia.pk}/nouvelle-invitation/"
    sam = login(Client(), world.sam)  # the secretary of practice A
    assert sam.post(url).status_code == 403
    assert AuditEvent.objects.filter(
        action="access.denied", actor_id=world.sam.pk, target=f"person:{nadia.pk}"
    ).exists()
    with pytest.raises(AccessDenied):
        staff.staff_reinvite(
            actor=world.actor(world.sam), practice=world.practice_a, person_id=nadia.pk
        )
    # Practice B's administrator: not in practice A, and nadia is not of practice B.
    tenancy.activate(world.practice_b.pk)
    MembershipFactory(practice=world.practice_b, person=world.charlie, role="practice_admin")
    tenancy.activate(None)
    charlie = login(Client(), world.charlie)
    assert charlie.post(url).status_code == 403
    other = f"/p/{world.practice_b.slug}/equipe/{nadia.pk}/nouvelle-invitation/"
    assert charlie.post(other).status_code == 404
    # The link handed over still works, and no other was made.
    assert Client().get(reverse("accounts:invitation", args=[issued.secret])).status_code == 200
    assert Invitation.objects.filter(person=nadia).count() == 1
    assert not AuditEvent.objects.filter(action="staff.reinvite").exists()
