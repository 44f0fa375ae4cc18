"""The practitioner's day ("Aujourd'hui") and the practice home built on it: the list and
the waiting room, "Recevoir" opening the consultation that then closes the appointment,
the home of each role, another practice refused, an excluded practitioner never seeing
the patient's name, and a fixed number of queries whatever the number of appointments."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda.models import Appointment, Channel, Status
from agenda.selectors.slots import local_zone
from core import tenancy
from core.access import choices
from core.audit.models import AuditEvent
from records.models import Encounter
from tests.agenda.conftest import Agenda
from tests.factories import MembershipFactory, PatientFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login

REASON = "douleur thoracique depuis hier"


def home(world: World) -> str:
    return f"/p/{world.practice_a.slug}/"


def today_url(world: World) -> str:
    return f"/p/{world.practice_a.slug}/aujourdhui/"


def booked_today(
    world: World,
    agenda: Agenda,
    patient,  # type: ignore[no-untyped-def]
    *,
    practitioner=None,  # type: ignore[no-untyped-def]
    minutes_from_now: int = 30,
    status: str = Status.BOOKED,
    reason: str = REASON,
    starts: datetime | None = None,
) -> Appointment:
    """An appointment today (written as the desk would have, without the service's
    rules on opening hours: the test must not depend on the time it runs)."""
    tenancy.activate(world.practice_a.pk)
    starts = starts or _today_at(minutes_from_now)
    made = Appointment.objects.create(
        practice=world.practice_a,
        practitioner=practitioner or world.alice,
        patient=patient,
        type=agenda.consultation,
        site=agenda.site,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=5),
        status=status,
        arrived_at=timezone.now() - timedelta(minutes=12) if status == Status.ARRIVED else None,
        channel=Channel.PHONE,
        reason=reason,
        created_by=world.sam,
    )
    tenancy.activate(None)
    return made


def _today_at(minutes_from_now: int) -> datetime:
    """A time of today, ``minutes_from_now`` after now. Near midnight "now" is moved to
    22:00 (or 01:30 just after midnight) so that every appointment stays today and
    two appointments asked for at different offsets never share a time: clamping
    each one to 23:50 made a run at 23:20 book two at once."""
    now = timezone.now().astimezone(local_zone())
    earliest = now.replace(hour=1, minute=30, second=0, microsecond=0)
    latest = now.replace(hour=22, minute=0, second=0, microsecond=0)
    anchor = max(earliest, min(now, latest))
    return anchor + timedelta(minutes=minutes_from_now)


def walk_in(world: World, agenda: Agenda, patient) -> Appointment:  # type: ignore[no-untyped-def]
    tenancy.activate(world.practice_a.pk)
    made = Appointment.objects.create(
        practice=world.practice_a,
        patient=patient,
        type=agenda.consultation,
        channel=Channel.WALK_IN,
        status=Status.ARRIVED,
        arrived_at=timezone.now() - timedelta(minutes=3),
        reason="certificat",
        created_by=world.sam,
    )
    tenancy.activate(None)
    return made


def patients(world: World, count: int) -> list:  # type: ignore[type-arg]
    tenancy.activate(world.practice_a.pk)
    made = [
        PatientFactory(practice=world.practice_a, gp=world.alice, birth_name=f"Patient{i:02d}")
        for i in range(count)
    ]
    tenancy.activate(None)
    return made


def fill_day(world: World, agenda: Agenda, count: int, first: int = 0) -> None:
    """``count`` appointments today for Alice, one every 5 minutes from 00:05 (the
    ``first``-th slot), a third of them in the waiting room."""
    midnight = (
        timezone.now().astimezone(local_zone()).replace(hour=0, minute=5, second=0, microsecond=0)
    )
    for index, patient in enumerate(patients(world, count), start=first):
        booked_today(
            world,
            agenda,
            patient,
            starts=midnight + timedelta(minutes=5 * index),
            status=Status.ARRIVED if index % 3 == 0 else Status.BOOKED,
        )


@pytest.fixture
def pia(world: World):  # type: ignore[no-untyped-def]
    """A practice administrator without a clinical role."""
    tenancy.activate(world.practice_a.pk)
    person = PersonFactory(username="pia", full_name="Pia Perrin")
    MembershipFactory(practice=world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return person


# --- the practitioner's day -----------------------------------------------------------


def test_the_gp_sees_the_day_list_and_the_waiting_room(
    client: Client, world: World, agenda: Agenda
) -> None:
    waiting = booked_today(world, agenda, world.paul, minutes_from_now=-5, status=Status.ARRIVED)
    later = booked_today(world, agenda, patients(world, 1)[0], minutes_from_now=60)
    walker = patients(world, 1)[0]
    walk_in(world, agenda, walker)
    page = unescape(login(client, world.alice).get(today_url(world)).content.decode())
    assert "<h1>Aujourd'hui</h1>" in page and "Salle d'attente" in page
    assert world.paul.display_name in page and walker.display_name in page
    assert REASON in page  # Alice's own patients' reasons
    # The next patient (the longest waiting) has the focused "Recevoir" with its key.
    receive = f'/aujourdhui/{waiting.pk}/recevoir/"'
    assert receive in page
    form = page.split(receive, 1)[1].split("</form>", 1)[0]
    assert "autofocus" in form and 'accesskey="r"' in form
    # checked in, Paul is in both lists: one key, one focus
    assert page.count('accesskey="r"') == page.count("autofocus") == 1
    assert page.count('accesskey="d"') == 1
    assert f"/aujourdhui/{later.pk}/recevoir/" in page
    assert "Alt+R" in page  # the keys are documented on the page


def test_receiving_opens_the_consultation_whose_saving_closes_the_appointment(
    client: Client, world: World, agenda: Agenda
) -> None:
    appointment = booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    alice = login(client, world.alice)
    response = alice.post(f"{today_url(world)}{appointment.pk}/recevoir/")
    assert response.status_code == 302
    consultation = (
        f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consultation/"
        f"?origin=appointment:{appointment.pk}"
    )
    assert response["Location"] == consultation
    tenancy.activate(world.practice_a.pk)
    appointment.refresh_from_db()
    assert appointment.status == Status.IN_CONSULTATION and appointment.seen_at is not None
    tenancy.activate(None)

    form = alice.get(consultation).content.decode()
    assert f'value="appointment:{appointment.pk}"' in form
    saved = alice.post(
        consultation,
        {"kind": "office", "reason": "Toux", "origin": f"appointment:{appointment.pk}"},
    )
    assert saved.status_code == 302
    tenancy.activate(world.practice_a.pk)
    appointment.refresh_from_db()
    encounter = Encounter.objects.get(patient=world.paul)
    assert appointment.status == Status.DONE
    assert appointment.encounter_id == encounter.pk
    assert AuditEvent.objects.filter(action="appointment.start", patient_id=world.paul.pk).exists()
    tenancy.activate(None)


def test_another_practitioners_appointment_is_not_received(
    client: Client, world: World, agenda: Agenda
) -> None:
    """Bob is not in Paul's care team: calling Paul in (his clinical record) is refused
    and audited, and the appointment stays in the waiting room."""
    appointment = booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    response = login(client, world.bob).post(f"{today_url(world)}{appointment.pk}/recevoir/")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action="access.denied", actor_id=world.bob.pk, patient_id=world.paul.pk
    ).exists()
    tenancy.activate(world.practice_a.pk)
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED
    tenancy.activate(None)


def test_a_secretary_does_not_call_patients_in(
    client: Client, world: World, agenda: Agenda
) -> None:
    appointment = booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    response = login(client, world.sam).post(f"{today_url(world)}{appointment.pk}/recevoir/")
    assert response.status_code == 403
    tenancy.activate(world.practice_a.pk)
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED
    tenancy.activate(None)


def test_an_appointment_of_another_practice_is_not_found(
    client: Client, world: World, agenda: Agenda
) -> None:
    appointment = booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    charlie = login(client, world.charlie)
    url = f"/p/{world.practice_b.slug}/aujourdhui/{appointment.pk}/recevoir/"
    assert charlie.post(url).status_code == 404


def test_another_practice_is_refused(client: Client, world: World, agenda: Agenda) -> None:
    booked_today(world, agenda, world.paul)
    alice = login(client, world.alice)
    for url in (f"/p/{world.practice_b.slug}/", f"/p/{world.practice_b.slug}/aujourdhui/"):
        response = alice.get(url)
        assert response.status_code == 403
        assert "Zola" not in response.content.decode()


def test_an_excluded_practitioner_does_not_see_the_patients_name(
    client: Client, world: World, agenda: Agenda
) -> None:
    booked_today(world, agenda, world.paul, practitioner=world.bob, status=Status.ARRIVED)
    walk_in(world, agenda, world.paul)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.bob.pk,
        source="formulaire signé n° 7",
    )
    tenancy.activate(None)
    bob = login(client, world.bob)
    for url in (today_url(world), home(world)):
        page = bob.get(url).content.decode()
        assert "Dupont" not in page and "DUPONT" not in page
        assert REASON not in page
        assert "Occupé" in page  # his time is held, without the name


def test_a_walk_in_for_anyone_is_in_every_practitioners_waiting_room(
    client: Client, world: World, agenda: Agenda
) -> None:
    walker = patients(world, 1)[0]
    appointment = walk_in(world, agenda, walker)
    page = login(client, world.bob).get(today_url(world)).content.decode()
    assert walker.display_name in page
    assert f"/aujourdhui/{appointment.pk}/recevoir/" in page


# --- the practice home, per role --------------------------------------------------------


def test_the_practitioners_home_is_their_day(client: Client, world: World, agenda: Agenda) -> None:
    appointment = booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    page = login(client, world.alice).get(home(world)).content.decode()
    assert "<h1>Cabinet A</h1>" in page
    assert f"/aujourdhui/{appointment.pk}/recevoir/" in page
    assert REASON in page
    # what the old home offered stays reachable
    for link in ("/jetons/", "/profil/", "/caisse/", "/equipe-de-soins/", "/patients/"):
        assert link in page
    assert "/equipe/inviter/" not in page and '/equipe/"' not in page  # not an administrator
    assert "/agenda/reglages/" in page and "/agenda/reglages/calendrier/" in page


def test_the_secretarys_home_shows_the_waiting_room_and_each_day_without_reasons(
    client: Client, world: World, agenda: Agenda
) -> None:
    booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    other = patients(world, 1)[0]
    booked_today(world, agenda, other, practitioner=world.bob, minutes_from_now=45)
    walk_in(world, agenda, patients(world, 1)[0])
    page = login(client, world.sam).get(home(world)).content.decode()
    assert "Salle d" in page and "Dr Alice Arnaud" in page and "Dr Bob Blanc" in page
    assert world.paul.display_name in page and other.display_name in page
    assert "Consultation" in page  # the type
    assert REASON not in page and "certificat" not in page  # never a clinical reason
    assert "/recevoir/" not in page  # the desk does not call patients in
    assert "/agenda/reglages/" in page


def test_the_administrators_home_shows_the_team_the_settings_and_the_counts(
    client: Client, world: World, agenda: Agenda, pia
) -> None:
    booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    booked_today(world, agenda, patients(world, 1)[0], minutes_from_now=50)
    page = login(client, pia).get(home(world)).content.decode()
    assert "2 rendez-vous aujourd'hui" in unescape(page)
    assert world.paul.display_name not in page and REASON not in page
    assert "/equipe/" in page and "/agenda/reglages/" in page and "/cotisations/" in page
    assert "Pia Perrin" in page and "Sam Simon" in page  # the team


# --- a fixed number of queries ----------------------------------------------------------


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("who", "page"), [("alice", "today"), ("alice", "home"), ("sam", "home"), ("pia", "home")]
)
def test_the_day_runs_the_same_queries_for_2_and_30_appointments(
    client: Client, world: World, agenda: Agenda, pia, who: str, page: str
) -> None:
    """'Must be shown': the today page and the home cost the same whatever the day."""
    person = {"alice": world.alice, "sam": world.sam, "pia": pia}[who]
    url = today_url(world) if page == "today" else home(world)
    browser = login(client, person)
    fill_day(world, agenda, 2)
    few = queries(browser, url)
    fill_day(world, agenda, 28, first=2)
    many = queries(browser, url)
    assert few == many, f"{few} queries with 2 appointments, {many} with 30"
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.filter(practitioner=world.alice).count() == 30
    tenancy.activate(None)
