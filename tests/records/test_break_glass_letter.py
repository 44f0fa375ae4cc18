"""Break-the-glass reaches the patient: a letter in plain French (a real PDF) waits at the
desk, the desk is reminded on the chart until it marks the letter handed over or posted,
and the practice's review list shows an access still unreviewed after seven days."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core import tenancy
from core.access import choices
from core.access.models import BreakGlass, LetterState
from core.audit.models import AuditEvent
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

REASON = "Malaise grave en salle d'attente, médecin traitant absent"
RIGHTS = (
    "Vous pouvez demander le relevé de tous les accès à votre dossier, demander que cette "
    "personne n'y ait plus accès, ou nous contacter pour toute question."
)
# Words of English a French letter never holds (and the message ids of our strings).
ENGLISH = re.compile(
    r"\b(the|and|of|your|record|access|emergency|letter|reason|who|when|practice|patient's"
    r"|handed|posted|born)\b",
    re.IGNORECASE,
)


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/{rest}"


def break_glass(world: World, *, days_ago: int = 0) -> BreakGlass:
    """Bob (not in Paul's care team) opens Paul's record in an emergency."""
    grant = choices.break_glass_start(
        actor=world.actor(world.bob), patient_id=world.paul.pk, reason=REASON
    )
    if days_ago:
        started = timezone.now() - timedelta(days=days_ago)
        BreakGlass.objects.filter(pk=grant.pk).update(
            started_at=started, expires_at=started + timedelta(hours=4)
        )
        grant.refresh_from_db()
    tenancy.activate(None)
    return grant


def letter_url(world: World, grant: BreakGlass) -> str:
    return url(world, f"patients/{world.paul.pk}/urgence/{grant.pk}/lettre.pdf")


def done_url(world: World, grant: BreakGlass) -> str:
    return url(world, f"patients/{world.paul.pk}/urgence/{grant.pk}/lettre/remise/")


def events(world: World, action: str) -> list[AuditEvent]:
    tenancy.activate(world.practice_a.pk)
    found = list(AuditEvent.objects.filter(action=action, patient_id=world.paul.pk))
    tenancy.activate(None)
    return found


def letter_state(world: World, grant: BreakGlass) -> str:
    tenancy.activate(world.practice_a.pk)
    state = BreakGlass.objects.get(pk=grant.pk).letter
    tenancy.activate(None)
    return state


@pytest.fixture
def sam(world: World) -> Client:
    return login(Client(), world.sam)


@pytest.fixture
def pia(world: World) -> Client:
    """Pia, administrator of practice A."""
    tenancy.activate(world.practice_a.pk)
    person = PersonFactory(username="pia", full_name="Pia Perrin")
    MembershipFactory(practice=world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return login(Client(), person)


# --- the letter --------------------------------------------------------------------------


def test_the_letter_is_a_real_pdf_in_plain_french(sam: Client, world: World) -> None:
    grant = break_glass(world)
    assert grant.letter == LetterState.PENDING  # prepared as the glass is broken
    response = sam.get(letter_url(world, grant), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Dr Bob Blanc" in text
    local = timezone.localtime(grant.started_at)
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août"]
    months += ["septembre", "octobre", "novembre", "décembre"]
    assert f"le {local.day} {months[local.month - 1]} {local.year} à {local:%H:%M}" in text
    assert REASON in text
    assert "Paul DUPONT" in text
    assert RIGHTS in text
    assert world.practice_a.name in text
    assert ENGLISH.findall(text) == []


def test_printing_the_letter_is_one_audited_read_of_the_identity(sam: Client, world: World) -> None:
    grant = break_glass(world)
    before = len(events(world, "patient.read"))
    assert sam.get(letter_url(world, grant)).status_code == 200
    reads = events(world, "patient.read")[before:]
    assert [(e.category, e.actor_id) for e in reads] == [("identity", world.sam.pk)]


def test_another_practice_gets_no_letter(world: World) -> None:
    grant = break_glass(world)
    charlie = login(Client(), world.charlie)
    path = f"/p/{world.practice_b.slug}/patients/{world.paul.pk}/urgence/{grant.pk}/lettre.pdf"
    assert charlie.get(path).status_code == 404
    assert charlie.get(letter_url(world, grant)).status_code in (403, 404)


def test_an_access_to_another_patient_is_not_this_patients_letter(
    sam: Client, world: World
) -> None:
    grant = break_glass(world)
    path = url(world, f"patients/{world.paul.pk}/urgence/{grant.pk + 1000}/lettre.pdf")
    assert sam.get(path).status_code == 404


def test_a_patient_who_excluded_the_secretary_gets_no_letter_from_her(
    sam: Client, world: World
) -> None:
    grant = break_glass(world)
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.sam.pk,
        source="formulaire signé n°12",
    )
    tenancy.activate(None)
    assert sam.get(letter_url(world, grant)).status_code == 403
    assert sam.post(done_url(world, grant), {"how": "handed"}).status_code == 403
    assert letter_state(world, grant) == LetterState.PENDING


# --- the desk's reminder on the chart ----------------------------------------------------


def test_the_chart_reminds_the_desk_until_the_letter_is_handed_over(
    sam: Client, world: World
) -> None:
    grant = break_glass(world)
    chart = url(world, f"patients/{world.paul.pk}/")
    page = sam.get(chart).content.decode()
    assert 'data-testid="letters-to-hand"' in page
    assert letter_url(world, grant) in page
    response = sam.post(done_url(world, grant), {"how": "handed", "next": chart})
    assert response.status_code == 302 and response["Location"] == chart
    assert letter_state(world, grant) == LetterState.HANDED
    assert 'data-testid="letters-to-hand"' not in sam.get(chart).content.decode()
    [event] = events(world, "break_glass.letter_handed")
    assert event.actor_id == world.sam.pk and event.target == f"break_glass:{grant.pk}"


def test_a_posted_letter_ends_the_reminder_too(sam: Client, world: World) -> None:
    grant = break_glass(world)
    assert sam.post(done_url(world, grant), {"how": "posted"}).status_code == 302
    assert letter_state(world, grant) == LetterState.POSTED
    assert len(events(world, "break_glass.letter_posted")) == 1
    page = sam.get(url(world, f"patients/{world.paul.pk}/")).content.decode()
    assert 'data-testid="letters-to-hand"' not in page


def test_the_practitioners_chart_shows_no_desk_reminder(world: World) -> None:
    break_glass(world)
    alice = login(Client(), world.alice)
    page = alice.get(url(world, f"patients/{world.paul.pk}/")).content.decode()
    assert 'data-testid="letters-to-hand"' not in page


def test_a_practitioner_who_is_not_the_desk_does_not_mark_it_handed(world: World) -> None:
    grant = break_glass(world)
    alice = login(Client(), world.alice)
    assert alice.post(done_url(world, grant), {"how": "handed"}).status_code == 403
    assert letter_state(world, grant) == LetterState.PENDING
    assert events(world, "break_glass.letter_handed") == []
    assert [e.actor_id for e in events(world, "access.denied")] == [world.alice.pk]


def test_another_practice_cannot_mark_the_letter(world: World) -> None:
    grant = break_glass(world)
    tenancy.activate(world.practice_b.pk)
    desk_b = PersonFactory(username="sophie", full_name="Sophie Sauvage")
    MembershipFactory(practice=world.practice_b, person=desk_b, role="secretary")
    tenancy.activate(None)
    client = login(Client(), desk_b)
    path = f"/p/{world.practice_b.slug}/patients/{world.paul.pk}/urgence/{grant.pk}/lettre/remise/"
    assert client.post(path, {"how": "handed"}).status_code == 404
    assert client.post(done_url(world, grant), {"how": "handed"}).status_code in (403, 404)
    assert letter_state(world, grant) == LetterState.PENDING


def test_a_bad_answer_is_a_clear_400_in_french_and_english(sam: Client, world: World) -> None:
    grant = break_glass(world)
    french = sam.post(done_url(world, grant), {"how": "perdu"})
    assert french.status_code == 400
    assert "remise en main propre ou envoyée" in french.content.decode()
    english = sam.post(done_url(world, grant), {"how": ""}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 400
    assert "handed over or posted" in english.content.decode()
    assert letter_state(world, grant) == LetterState.PENDING
    sam.post(done_url(world, grant), {"how": "handed"})
    again = sam.post(done_url(world, grant), {"how": "posted"})
    assert again.status_code == 400 and letter_state(world, grant) == LetterState.HANDED


def test_an_outside_next_address_is_not_followed(sam: Client, world: World) -> None:
    grant = break_glass(world)
    response = sam.post(
        done_url(world, grant), {"how": "handed", "next": "https://ailleurs.example/"}
    )
    assert response["Location"] == url(world, f"patients/{world.paul.pk}/")


# --- the practice's review list ----------------------------------------------------------


def test_the_review_list_shows_an_access_unreviewed_after_7_days_as_overdue(
    pia: Client, world: World
) -> None:
    old = break_glass(world, days_ago=8)
    recent = break_glass(world, days_ago=2)
    page = pia.get(url(world, "acces-urgence/")).content.decode()
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
    overdue = [row for row in rows if 'data-testid="overdue"' in row]
    assert len(overdue) == 1 and f'value="{old.pk}"' in overdue[0]
    assert "plus de 7 jours" in overdue[0]
    assert any(f'value="{recent.pk}"' in row for row in rows)
    assert (
        pia.post(url(world, "acces-urgence/"), {"grant": old.pk, "note": "justifié"}).status_code
        == 302
    )
    page = pia.get(url(world, "acces-urgence/")).content.decode()
    assert 'data-testid="overdue"' not in page
    assert f'value="{old.pk}"' not in page and f'value="{recent.pk}"' in page


def test_the_review_list_is_refused_to_the_desk(sam: Client, world: World) -> None:
    break_glass(world, days_ago=8)
    assert sam.get(url(world, "acces-urgence/")).status_code == 403
