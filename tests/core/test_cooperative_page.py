"""The cooperative's administrators see the member practices of the node (name, node,
city, plan, status, shares, since when) on a page, in print and as JSON; nobody else
does, whatever their roles, and every refusal is audited. No patient data is shown."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from core import tenancy
from core.access.policy import Actor, CooperativeAction, decide_cooperative
from core.accounts import services
from core.accounts.models import Person
from core.practices.models import CooperativeMembership
from tests.factories import MembershipFactory, PersonFactory, PracticeFactory
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

PAGE, PDF, API = "/cooperative/", "/cooperative/adherents.pdf", "/api/v1/cooperative/members/"


@pytest.fixture
def members(world: World) -> World:
    """Practice A: a solo practice with 3 shares since 2021; B suspended; a third one
    that left the cooperative."""
    CooperativeMembership.objects.filter(practice=world.practice_a).update(
        plan="solo", shares=3, joined_on=date(2021, 3, 1)
    )
    CooperativeMembership.objects.filter(practice=world.practice_b).update(
        status="suspended", shares=2, joined_on=date(2022, 9, 15)
    )
    gone = PracticeFactory(slug="cabinet-parti", name="Cabinet Parti", city="Grenoble")
    CooperativeMembership.objects.filter(practice=gone).update(
        plan="centre", status="left", joined_on=date(2020, 1, 6), left_on=date(2024, 6, 30)
    )
    return world


@pytest.fixture
def colette(db: None) -> Person:
    return PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)


def events(action: str, person: Person) -> list[tuple[str, str, dict]]:
    """Events of the node's chain (read as the database superuser, like an auditor)."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT outcome, target, details FROM audit_event"
            " WHERE action = %s AND actor_id = %s ORDER BY id",
            [action, person.pk],
        )
        rows = cursor.fetchall()
        cursor.execute("SET ROLE carnet_app")
    return [(outcome, target, json.loads(details)) for outcome, target, details in rows]


def test_a_cooperative_admin_sees_every_member_practice(members: World, colette: Person) -> None:
    client = login(Client(), colette)
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200
    html = page.content.decode()
    for words in ("Cabinet A", "Cabinet B", "Cabinet Parti", "Grenoble", "Lyon", "carnet-local"):
        assert words in html
    assert "Cabinet individuel" in html and "Suspendu" in html and "01/03/2021" in html
    assert "30/06/2024" in html  # the day a practice left
    assert "Cabinets adhérents de la coopérative" in html
    assert "3 cabinets · en activité : 1 · parts sociales détenues : 5" in html
    for english in ("Member", "shares", "practices", "Print", "Plan", "Status", "since"):
        assert english not in html, english
    # Nothing about patients: not their names, not how many there are.
    assert (
        "Dupont" not in html
        and "Zola" not in html
        and "patient" not in html.lower().replace("aucune donnée de patient", "")
    )
    assert events("cooperative.members.read", colette)[0][0] == "success"


def test_the_members_print_to_pdf(members: World, colette: Person) -> None:
    client = login(Client(), colette)
    response = client.get(PDF, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Cabinet A" in text and "Cabinet Parti" in text and "Cabinet individuel" in text
    assert "Dupont" not in text
    # The practice that left keeps no share in the count.
    assert "3 cabinets · en activité : 1 · parts sociales détenues : 5" in text
    assert events("cooperative.members.print", colette)


def test_the_general_assemblys_sheet_gives_each_member_one_vote(
    members: World, colette: Person
) -> None:
    """Practice A (3 shares) and B (suspended, 2 shares) vote, one vote each; the practice
    that left does not; an applicant is no member yet."""
    PracticeFactory(slug="cabinet-candidat", name="Cabinet Candidat")
    CooperativeMembership.objects.filter(practice__slug="cabinet-candidat").update(status="pending")
    response = login(Client(), colette).get("/cooperative/assemblee.pdf", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Assemblée générale : feuille d'émargement" in text
    assert "Cabinet A" in text and "Cabinet B" in text
    assert "Cabinet Parti" not in text and "Cabinet Candidat" not in text
    assert "2 adhérents" in text and "Un adhérent, une voix" in text
    assert "Dupont" not in text
    assert events("cooperative.assembly.print", colette)[0][2] == {"members": 2}
    for person in (members.alice, members.sam):
        assert login(Client(), person).get("/cooperative/assemblee.pdf").status_code == 403


def test_the_members_as_json(members: World, colette: Person) -> None:
    client = login(Client(), colette)
    response = client.get(API)
    assert response.status_code == 200
    by_slug = {m["slug"]: m for m in response.json()}
    assert by_slug["cabinet-a"] == {
        "slug": "cabinet-a",
        "name": "Cabinet A",
        "city": "Lyon",
        "postal_code": "",
        "node": "carnet-local",
        "plan": "solo",
        "status": "active",
        "shares": 3,
        "joined_on": "2021-03-01",
        "left_on": None,
    }
    assert by_slug["cabinet-parti"]["status"] == "left"
    assert by_slug["cabinet-b"]["status"] == "suspended"


def test_the_node_first_admin_with_both_flags_is_let_in(members: World) -> None:
    root = PersonFactory(username="root", is_node_admin=True, is_cooperative_admin=True)
    assert login(Client(), root).get(PAGE).status_code == 200


def _people(world: World) -> dict[str, Person]:
    """Everyone but a cooperative admin: GP, secretary, practice admin, another practice's
    GP, a node admin."""
    tenancy.activate(world.practice_a.pk)
    pia = PersonFactory(username="pia", full_name="Pia Poirier")
    MembershipFactory(practice=world.practice_a, person=pia, role="practice_admin")
    tenancy.activate(None)
    nadia = PersonFactory(username="nadia", full_name="Nadia Roux", is_node_admin=True)
    return {
        "alice": world.alice,
        "sam": world.sam,
        "pia": pia,
        "charlie": world.charlie,
        "node admin": nadia,
    }


def test_everyone_else_is_refused_and_audited(members: World) -> None:
    for name, person in _people(members).items():
        client = login(Client(), person)
        for path in (PAGE, PDF, API):
            response = client.get(path, HTTP_X_CARNET_PRACTICE=members.practice_a.slug)
            assert response.status_code == 403, (name, path, response.status_code)
            assert b"Cabinet Parti" not in response.content
        denied = events("access.denied", person)
        assert len(denied) == 3, name
        assert {d["rule"] for _o, _t, d in denied} == {"not-cooperative-admin"}
        assert {t for _o, t, _d in denied} == {"cooperative:members"}


def test_a_practice_token_never_opens_the_cooperative(members: World, colette: Person) -> None:
    # Even a cooperative admin who also works in a practice: her token is that practice's.
    tenancy.activate(members.practice_a.pk, colette.pk)
    MembershipFactory(practice=members.practice_a, person=colette, role="secretary")
    _token, plaintext = services.api_token_create(
        person=colette, practice=members.practice_a, name="script"
    )
    tenancy.activate(None)
    response = Client().get(API, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 403
    assert events("access.denied", colette)[0][2]["rule"] == "practice-token"
    assert Client().get(API).status_code == 401
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/connexion/" in anonymous["Location"]


def test_the_header_and_the_home_page_link_to_it_for_cooperative_admins_only(
    members: World, colette: Person
) -> None:
    home = login(Client(), colette).get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert home.count(f'href="{PAGE}"') == 2  # header and home page
    other = login(Client(), members.bob).get(
        f"/p/{members.practice_a.slug}/", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert f'href="{PAGE}"' not in other.content.decode()


# --- the policy's decision -----------------------------------------------------------------


def test_decide_cooperative_examples() -> None:
    coop = Actor(person_id=1, practice_id=None, is_cooperative_admin=True)
    assert decide_cooperative(coop, CooperativeAction.VIEW_MEMBERS).rule == "cooperative-admin"
    assert not decide_cooperative(coop, CooperativeAction.VIEW_MEMBERS, by_token=True)
    admin = Actor(person_id=2, practice_id=7, roles=frozenset({"practice_admin"}))
    assert decide_cooperative(admin, CooperativeAction.VIEW_MEMBERS).rule == (
        "not-cooperative-admin"
    )
    node = Actor(person_id=3, practice_id=None, is_node_admin=True)
    assert not decide_cooperative(node, CooperativeAction.VIEW_MEMBERS)
    both = Actor(person_id=4, practice_id=None, is_node_admin=True, is_cooperative_admin=True)
    assert decide_cooperative(both, CooperativeAction.VIEW_MEMBERS)


@given(
    roles=st.frozensets(st.sampled_from(["practitioner", "secretary", "practice_admin"])),
    practice_id=st.none() | st.integers(1, 5),
    node_admin=st.booleans(),
    cooperative_admin=st.booleans(),
    by_token=st.booleans(),
)
def test_only_the_cooperative_admin_flag_opens_it_and_never_a_token(
    roles: frozenset[str],
    practice_id: int | None,
    node_admin: bool,
    cooperative_admin: bool,
    by_token: bool,
) -> None:
    actor = Actor(
        person_id=1,
        practice_id=practice_id,
        roles=roles,
        is_node_admin=node_admin,
        is_cooperative_admin=cooperative_admin,
    )
    decision = decide_cooperative(actor, CooperativeAction.VIEW_MEMBERS, by_token=by_token)
    assert decision.allowed == (cooperative_admin and not by_token)
    assert decision.rule
