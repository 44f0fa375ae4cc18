"""The desk is reminded, when the patient checks in, to hand over the letter about an
emergency access to their record; the reminder goes once the letter is handed over or
posted, and only the desk sees it."""

from __future__ import annotations

from django.test import Client

from tests.agenda.conftest import Agenda
from tests.agenda.test_desk_pages import today_at_now, url
from tests.fixtures import World
from tests.records.test_break_glass_letter import break_glass, done_url, letter_url
from tests.records.test_views import login

REMINDER = 'data-testid="letters-to-hand"'


def test_check_in_reminds_the_desk_until_the_letter_is_handed_over(
    world: World, agenda: Agenda
) -> None:
    grant = break_glass(world)
    made = today_at_now(world, agenda)
    sam = login(Client(), world.sam)
    room = url(world, "salle-d-attente/")
    assert REMINDER not in sam.get(room).content.decode()  # not arrived yet
    checked = sam.post(url(world, f"rdv/{made.pk}/arrivee/"), follow=True)
    page = checked.content.decode()
    assert checked.status_code == 200 and REMINDER in page
    assert "DUPONT Paul" in page.split(REMINDER, 1)[1].split("</section>", 1)[0]
    assert letter_url(world, grant) in page
    assert REMINDER in sam.get(url(world, f"rdv/{made.pk}/")).content.decode()
    handed = sam.post(done_url(world, grant), {"how": "handed", "next": room})
    assert handed.status_code == 302 and handed["Location"] == room
    assert REMINDER not in sam.get(room).content.decode()
    assert REMINDER not in sam.get(url(world, f"rdv/{made.pk}/")).content.decode()


def test_the_practitioner_checking_in_sees_no_desk_reminder(world: World, agenda: Agenda) -> None:
    break_glass(world)
    made = today_at_now(world, agenda)
    alice = login(Client(), world.alice)
    checked = alice.post(url(world, f"rdv/{made.pk}/arrivee/"), follow=True)
    assert checked.status_code == 200 and "DUPONT Paul" in checked.content.decode()
    assert REMINDER not in checked.content.decode()
