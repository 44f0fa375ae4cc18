"""Joining the cooperative from the node's public page: a practice applies (no login),
a cooperative administrator approves it (the practice, its membership and its people are
provisioned as ``carnet onboard_practice`` does, and the first administrator gets a
printable invitation) or refuses it with a reason. Bad input stores nothing; everyone
else is refused, audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.utils import translation

from core import tenancy
from core.accounts.models import Invitation, Membership, Person
from core.accounts.selectors import actor_for
from core.practices.models import (
    ApplicationPractitioner,
    CooperativeMembership,
    MembershipApplication,
    Practice,
)
from core.practices.services import applications
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

APPLY = "/adherer/"
LIST = "/cooperative/demandes/"


def valid(**changes: Any) -> dict[str, Any]:
    data = {
        "practice_name": "Maison de santé des Tilleuls",
        "address": "3 rue des Tilleuls",
        "postal_code": "69003",
        "city": "Lyon",
        "country": "FR",
        "plan": "group",
        "shares": "4",
        "contact_name": "Dr Inès Morel",
        "contact_email": "ines.morel@example.org",
        "contact_phone": "04 72 00 00 00",
        "statutes_accepted": "on",
        "practitioner_0_name": "Dr Inès Morel",
        "practitioner_0_profession": "gp",
        "practitioner_0_identifier": "10003456786",
        "practitioner_1_name": "Luc Perrin",
        "practitioner_1_profession": "nurse",
        "practitioner_1_identifier": "",
    }
    data.update(changes)
    return data


def node_events(action: str) -> list[tuple[str, int | None, str, dict]]:
    """Events of the whole trail (read as the database superuser, like an auditor), oldest
    first: the trail is append-only, so events of earlier tests that committed stay in it."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT outcome, practice_id, target, details FROM audit_event"
            " WHERE action = %s ORDER BY id",
            [action],
        )
        rows = cursor.fetchall()
        cursor.execute("SET ROLE carnet_app")
    return [(o, p, t, json.loads(d)) for o, p, t, d in rows]


@pytest.fixture
def colette(db: None) -> Person:
    return PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)


def test_the_public_page_opens_without_login_in_french(db: None) -> None:
    page = Client().get(APPLY, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Adhérer à la coopérative" in html and "Parts sociales souscrites" in html
    for english in ("Join the cooperative", "Practitioner 1", "Send the application"):
        assert english not in html


def test_a_practice_applies_and_the_application_is_stored_whole(db: None) -> None:
    response = Client().post(APPLY, valid(), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302 and response["Location"] == "/adherer/envoyee/"
    application = MembershipApplication.objects.get()
    assert application.status == "pending" and application.shares == 4
    assert [(p.full_name, p.profession, p.identifier) for p in application.practitioners.all()] == [
        ("Dr Inès Morel", "gp", "10003456786"),
        ("Luc Perrin", "nurse", ""),
    ]
    assert not Practice.objects.filter(name="Maison de santé des Tilleuls").exists()
    # the node's chain (the trail is append-only: earlier tests' events stay, this one is last)
    assert node_events("cooperative.application.submit")[-1][1] is None


def test_an_application_goes_to_the_nodes_chain_whatever_the_last_request_left(
    db: None,
) -> None:
    """A worker keeps its context from one request to the next: an anonymous applicant's
    event must not land on the chain of the practice the previous request worked in."""
    tenancy.activate(987654)  # what a previous request in this worker left behind
    response = Client().post(APPLY, valid(), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302
    assert node_events("cooperative.application.submit")[-1][1] is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"statutes_accepted": ""}, "statutes_accepted", "statuts"),
        ({"shares": "0"}, "shares", "1"),
        ({"shares": "beaucoup"}, "shares", "nombre entier"),
        ({"contact_email": "pas-une-adresse"}, "contact_email", "adresse e-mail"),
        ({"practitioner_1_identifier": "12345678901"}, "practitioner_1_identifier", "RPPS"),
        ({"practitioner_0_profession": ""}, "practitioner_0_profession", "profession"),
        ({"country": "DE"}, "country", "choix"),
    ],
)
def test_bad_input_says_why_in_french_and_stores_nothing(
    db: None, changes: dict[str, str], field: str, message: str
) -> None:
    response = Client().post(APPLY, valid(**changes), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert 'role="alert"' in response.content.decode()
    assert not MembershipApplication.objects.exists()


def test_an_application_needs_a_practitioner_and_says_it_in_english_too(db: None) -> None:
    data = valid(practitioner_0_name="", practitioner_0_profession="", practitioner_0_identifier="")
    data.update(practitioner_1_name="", practitioner_1_profession="")
    response = Client().post(APPLY, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Name at least one practitioner of the practice." in response.content.decode()
    assert not MembershipApplication.objects.exists()


def test_a_practitioner_error_lands_on_the_row_it_came_from(db: None) -> None:
    # Row 1 left empty, row 2 filled with a wrong number: the error is on row 2.
    data = valid(practitioner_1_name="", practitioner_1_profession="")
    data.update(
        practitioner_2_name="Zoé Lenoir",
        practitioner_2_profession="physio",
        practitioner_2_identifier="123",
    )
    response = Client().post(APPLY, data, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    assert "practitioner_2_identifier" in response.context["form"].errors


def test_a_robot_filling_the_hidden_field_stores_nothing(db: None) -> None:
    response = Client().post(APPLY, valid(website="http://spam.example"))
    assert response.status_code == 302  # told nothing
    assert not MembershipApplication.objects.exists()
    assert node_events("cooperative.application.dropped")


@override_settings(CARNET_APPLICATIONS_PER_ADDRESS=2)
def test_one_address_cannot_flood_the_cooperative(db: None) -> None:
    client = Client()
    for number in range(2):  # two practices (one practice may not apply twice)
        other = valid(practice_name=f"Cabinet {number}", practitioner_0_identifier="")
        assert client.post(APPLY, other).status_code == 302
    third = client.post(
        APPLY,
        valid(practice_name="Cabinet 3", practitioner_0_identifier=""),
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert third.status_code == 429
    assert "Trop de demandes" in third.content.decode()
    assert MembershipApplication.objects.count() == 2


@override_settings(CARNET_APPLICATIONS_PER_ADDRESS=2)
def test_the_cooperative_admin_types_in_paper_applications_without_the_limit(
    colette: Person,
) -> None:
    """Applications received by post are typed on the same page by a cooperative
    administrator: the same checks, no limit per connection, the event names who typed."""
    client = login(Client(), colette)
    for number in range(4):
        other = valid(practice_name=f"Cabinet papier {number}", practitioner_0_identifier="")
        assert client.post(APPLY, other).status_code == 302, number
    assert MembershipApplication.objects.count() == 4
    assert client.post(APPLY, valid(practice_name="")).status_code == 400  # same checks
    assert [details["on_paper"] for *_, details in node_events("cooperative.application.submit")][
        -4:
    ] == [True] * 4


def _apply() -> MembershipApplication:
    assert Client().post(APPLY, valid()).status_code == 302
    return MembershipApplication.objects.get()


def test_the_cooperative_admin_approves_and_the_practice_is_provisioned(
    colette: Person,
) -> None:
    application = _apply()
    client = login(Client(), colette)
    listing = client.get(LIST, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Maison de santé des Tilleuls" in listing and "En attente" in listing
    detail = f"/cooperative/demandes/{application.pk}/"
    assert "Dr Inès Morel" in client.get(detail).content.decode()

    response = client.post(detail + "approuver/")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved" and application.decided_by == colette
    practice = application.practice
    assert practice is not None and practice.slug == "maison-de-sante-des-tilleuls"
    membership = CooperativeMembership.objects.get(practice=practice)
    assert (membership.plan, membership.shares, membership.status) == ("group", 4, "active")
    with tenancy.practice_context(practice.pk):
        roles = sorted(
            Membership.objects.filter(practice=practice).values_list("person__username", "role")
        )
        invitation = Invitation.objects.get(practice=practice)
    assert roles == [
        ("ines.morel", "practice_admin"),
        ("ines.morel", "practitioner"),
        ("luc.perrin", "practitioner"),
    ]
    admin = Person.objects.get(username="ines.morel")
    assert invitation.person == admin and not admin.has_usable_password()
    assert admin.rpps == "10003456786" and admin.email == "ines.morel@example.org"

    # The invitation, shown once in this session, and printable.
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "/invitation/" in page and "ines.morel" in page
    pdf = client.get(detail + "invitation.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "ines.morel" in text and "Maison de santé des Tilleuls" in text
    # Another session of the same administrator never gets the secret.
    other = login(Client(), colette)
    assert "/invitation/" not in other.get(detail).content.decode()
    assert other.get(detail + "invitation.pdf").status_code == 302

    # Audited: on the node's chain and on the new practice's.
    chains = {p for _o, p, _t, _d in node_events("cooperative.application.approve")}
    assert chains == {None, practice.pk}
    assert node_events("staff.invite_first_admin")[-1][1] == practice.pk
    assert node_events("cooperative.invitation.print")


def test_the_invited_admin_sets_a_password_and_enters_the_practice(colette: Person) -> None:
    import re

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.fixtures import totp_code

    application = _apply()
    client = login(Client(), colette)
    client.post(f"/cooperative/demandes/{application.pk}/approuver/")
    page = client.get(f"/cooperative/demandes/{application.pk}/").content.decode()
    link = re.search(r'data-testid="invitation-link">([^<]+)<', page)
    assert link is not None
    path = "/" + link.group(1).split("/", 3)[3]
    invited = Client()
    assert invited.get(path).status_code == 200
    admin = Person.objects.get(username="ines.morel")
    device = TOTPDevice.objects.get(user=admin)
    password = "un mot de passe assez long"
    response = invited.post(
        path, {"password": password, "password_again": password, "code": totp_code(device)}
    )
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.has_usable_password()


def test_approving_twice_or_a_decided_application_is_refused(colette: Person) -> None:
    application = _apply()
    client = login(Client(), colette)
    client.post(f"/cooperative/demandes/{application.pk}/approuver/")
    again = client.post(f"/cooperative/demandes/{application.pk}/approuver/")
    assert again.status_code == 400
    assert Practice.objects.filter(name="Maison de santé des Tilleuls").count() == 1


def test_the_cooperative_admin_refuses_with_a_reason(colette: Person) -> None:
    application = _apply()
    client = login(Client(), colette)
    url = f"/cooperative/demandes/{application.pk}/refuser/"
    empty = client.post(url, {"reason": " "}, HTTP_ACCEPT_LANGUAGE="fr")
    assert empty.status_code == 400
    application.refresh_from_db()
    assert application.status == "pending"
    assert client.post(url, {"reason": "Hors du territoire du nœud"}).status_code == 302
    application.refresh_from_db()
    assert (application.status, application.refusal_reason) == (
        "refused",
        "Hors du territoire du nœud",
    )
    assert application.practice is None and not Practice.objects.filter(slug__contains="tilleuls")
    assert node_events("cooperative.application.refuse")[-1][2] == f"application:{application.pk}"


def test_nobody_else_reviews_applications_and_refusals_are_audited(world: World) -> None:
    application = _apply()
    tenancy.activate(world.practice_a.pk)
    pia = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=world.practice_a, person=pia, role="practice_admin")
    tenancy.activate(None)
    node = PersonFactory(username="nadia", is_node_admin=True)
    base = f"/cooperative/demandes/{application.pk}/"
    for person in (world.alice, world.sam, pia, world.charlie, node):
        client = login(Client(), person)
        for method, path in (
            ("get", LIST),
            ("get", base),
            ("post", base + "approuver/"),
            ("post", base + "refuser/"),
            ("get", base + "invitation.pdf"),
        ):
            response = getattr(client, method)(path, {"reason": "non"} if method == "post" else {})
            assert response.status_code == 403, (person.username, path)
            assert b"Tilleuls" not in response.content
    denied = [
        d for d in node_events("access.denied") if d[3].get("rule") == "not-cooperative-admin"
    ]
    assert len(denied) == 25
    application.refresh_from_db()
    assert application.status == "pending"
    anonymous = Client().get(LIST)
    assert anonymous.status_code == 302 and "/connexion/" in anonymous["Location"]


def test_markup_in_an_application_is_shown_as_text(colette: Person) -> None:
    hostile = "<script>alert('x')</script> Cabinet"
    Client().post(APPLY, valid(practice_name=hostile, contact_name="<b>Léa</b>"))
    application = MembershipApplication.objects.get()
    page = login(Client(), colette).get(f"/cooperative/demandes/{application.pk}/")
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>Léa</b>" not in html


# A second application for the same practice (issue 22).


def as_input(**changes: Any) -> applications.ApplicationInput:
    """The application of ``valid()`` as the service takes it."""
    data = valid(**changes)
    return applications.ApplicationInput(
        practice_name=data["practice_name"],
        address=data["address"],
        postal_code=data["postal_code"],
        city=data["city"],
        country=data["country"],
        plan=data["plan"],
        shares=int(data["shares"]),
        contact_name=data["contact_name"],
        contact_email=data["contact_email"],
        contact_phone=data["contact_phone"],
        statutes_accepted=True,
        practitioners=tuple(
            applications.PractitionerEntry(
                data[f"practitioner_{i}_name"],
                data[f"practitioner_{i}_profession"],
                data[f"practitioner_{i}_identifier"],
            )
            for i in (0, 1)
            if data[f"practitioner_{i}_name"]
        ),
    )


SAME_NAME_FR = "a déjà demandé à adhérer"
SAME_NAME_EN = "has already applied to join"
SAME_NUMBER_FR = "déjà indiqué sur une demande"
SAME_NUMBER_EN = "already named on an application to join"


def refused(data: applications.ApplicationInput, language: str) -> dict[str, list[str]]:
    with translation.override(language), pytest.raises(ValidationError) as raised:
        applications.application_submit(data=data)
    return raised.value.message_dict


def test_the_same_practice_cannot_apply_twice_whatever_its_accents_and_case(db: None) -> None:
    applications.application_submit(data=as_input())
    # Same name without accents, in capitals, other words spacing, other practitioners.
    again = as_input(
        practice_name="  MAISON DE SANTE  des tilleuls ",
        postal_code="69 003",
        practitioner_0_identifier="10004567896",
    )
    for language, words in (("fr", SAME_NAME_FR), ("en", SAME_NAME_EN)):
        errors = refused(again, language)
        assert list(errors) == ["practice_name"], errors
        assert words in errors["practice_name"][0]
    assert MembershipApplication.objects.count() == 1
    assert ApplicationPractitioner.objects.count() == 2
    # The same name elsewhere is another practice.
    applications.application_submit(
        data=as_input(postal_code="69100", practitioner_0_identifier="10004567896")
    )
    assert MembershipApplication.objects.count() == 2


def test_a_practitioner_already_named_on_an_application_cannot_apply_again(db: None) -> None:
    applications.application_submit(data=as_input())
    again = as_input(practice_name="Cabinet du Parc", postal_code="69006")
    for language, words in (("fr", SAME_NUMBER_FR), ("en", SAME_NUMBER_EN)):
        errors = refused(again, language)
        assert list(errors) == ["practitioner_0_identifier"], errors
        assert words in errors["practitioner_0_identifier"][0]
    assert MembershipApplication.objects.count() == 1


def test_a_member_practice_or_its_practitioner_cannot_apply(world: World) -> None:
    """The member practice's name at its postal code; the RPPS of one of its people."""
    Practice.objects.filter(pk=world.practice_b.pk).update(
        name="Maison de Santé des Tilleuls", postal_code="69003"
    )
    errors = refused(as_input(practitioner_0_identifier=""), "en")
    assert list(errors) == ["practice_name"], errors
    Person.objects.filter(pk=world.alice.pk).update(rpps="10003456786")
    before = tenancy.current()
    errors = refused(as_input(practice_name="Cabinet du Parc"), "fr")
    assert list(errors) == ["practitioner_0_identifier"], errors
    assert SAME_NUMBER_FR in errors["practitioner_0_identifier"][0]
    # Alice's memberships were read under her person context, which is put back.
    assert tenancy.current() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('carnet.person_id', true)")
        assert cursor.fetchone()[0] in ("", None)
    assert not MembershipApplication.objects.exists()
    # A practice that left the cooperative, and its people, may apply again.
    CooperativeMembership.objects.filter(practice__in=[world.practice_a, world.practice_b]).update(
        status="left"
    )
    applications.application_submit(data=as_input())
    assert MembershipApplication.objects.count() == 1


def test_a_refused_application_does_not_block_a_new_one(colette: Person) -> None:
    first = applications.application_submit(data=as_input())
    applications.application_refuse(
        actor=actor_for(colette, None), application_id=first.pk, reason="Dossier incomplet"
    )
    second = applications.application_submit(data=as_input())
    assert second.pk != first.pk and second.status == "pending"


def test_the_public_page_says_the_practice_already_applied_and_stores_nothing(
    db: None,
) -> None:
    assert Client().post(APPLY, valid()).status_code == 302
    again = valid(practice_name="Maison de sante des TILLEULS", practitioner_1_identifier="")
    response = Client().post(APPLY, again, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert SAME_NAME_FR in " ".join(errors["practice_name"])
    assert SAME_NUMBER_FR in " ".join(errors["practitioner_0_identifier"])
    html = response.content.decode()
    assert 'role="alert"' in html and SAME_NAME_FR in html
    assert MembershipApplication.objects.count() == 1
    english = Client().post(APPLY, again, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400 and SAME_NAME_EN in english.content.decode()
    assert MembershipApplication.objects.count() == 1


# A new link for the first administrator, from the application's page.


def _invitation_path(page: str) -> str:
    import re

    link = re.search(r'data-testid="invitation-link">([^<]+)<', page)
    assert link is not None, "no link on the page"
    return "/invitation/" + link.group(1).split("/invitation/")[1]


def test_the_cooperative_admin_makes_a_new_link_for_the_first_administrator(
    colette: Person,
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.fixtures import totp_code

    application = _apply()
    client = login(Client(), colette)
    detail = f"/cooperative/demandes/{application.pk}/"
    client.post(detail + "approuver/")
    page = client.get(detail, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    old = _invitation_path(page)
    # The sentence before the button: the link handed over stops working.
    assert "le lien déjà remis cesse aussitôt de fonctionner" in page
    assert f'action="{detail}nouvelle-invitation/"' in page
    assert client.get(detail + "nouvelle-invitation/").status_code == 405  # a POST only

    # The link is lost: the session that made it no longer holds it (the secret is
    # stored nowhere else). A new one is made, printable.
    from core.practices.staff_views import SHEETS

    session = client.session
    del session[SHEETS]
    session.save()
    other = client
    assert "/invitation/" not in other.get(detail).content.decode()
    response = other.post(detail + "nouvelle-invitation/")
    assert response.status_code == 302 and response["Location"] == detail
    page = other.get(detail, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    new = _invitation_path(page)
    assert new != old and "ines.morel" in page
    pdf = other.get(detail + "invitation.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # The old link is refused, the new one sets the account up.
    assert Client().get(old).status_code == 404
    invited = Client()
    assert invited.get(new).status_code == 200
    admin = Person.objects.get(username="ines.morel")
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    password = "un mot de passe assez long"
    done = invited.post(
        new, {"password": password, "password_again": password, "code": totp_code(device)}
    )
    assert done.status_code == 302
    # Audited on the node's chain and on the practice's.
    practice = Practice.objects.get(application=application)
    assert node_events("cooperative.application.reinvite")[-1][:3] == (
        "success",
        None,
        f"application:{application.pk}",
    )
    assert node_events("staff.reinvite_first_admin")[-1][1] == practice.pk
    # Once the administrator has set their password: no new link.
    assert "nouvelle-invitation" not in other.get(detail).content.decode()
    refused = other.post(detail + "nouvelle-invitation/", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "already set their password" in refused.content.decode()


def test_only_a_cooperative_admin_makes_a_new_link_and_only_for_an_approved_practice(
    world: World, colette: Person
) -> None:
    application = _apply()
    url = f"/cooperative/demandes/{application.pk}/nouvelle-invitation/"
    coop = login(Client(), colette)
    pending = coop.post(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert pending.status_code == 400
    assert "Seul le cabinet d" in pending.content.decode()
    coop.post(f"/cooperative/demandes/{application.pk}/approuver/")
    practice = Practice.objects.get(application=application)
    with tenancy.practice_context(practice.pk):
        before = list(Invitation.objects.filter(practice=practice).values_list("pk", "revoked_at"))
    tenancy.activate(world.practice_a.pk)
    pia = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=world.practice_a, person=pia, role="practice_admin")
    tenancy.activate(None)
    # Another practice's administrator, a secretary, a node administrator.
    node = PersonFactory(username="nadia", is_node_admin=True)
    for person in (pia, world.sam, node):
        assert login(Client(), person).post(url).status_code == 403, person.username
    denied = [
        d
        for d in node_events("access.denied")
        if d[3].get("rule") == "not-cooperative-admin" and d[2] == f"application:{application.pk}"
    ]
    assert len(denied) == 3
    with tenancy.practice_context(practice.pk):
        after = list(Invitation.objects.filter(practice=practice).values_list("pk", "revoked_at"))
    assert after == before  # the first link still works, no other was made
    assert not [
        e
        for e in node_events("cooperative.application.reinvite")
        if e[2] == f"application:{application.pk}"
    ]
