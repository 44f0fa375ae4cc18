"""The agenda's settings pages: sites, types, a practitioner's week and one day's
exception, absences and closures (with the appointments to call), the public holidays
and the practitioner's calendar feed. Bad input is refused with a 400 in French and
English and stores nothing; a practitioner sets only their own hours (403, audited)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.test import Client

from agenda.models import (
    Absence,
    Appointment,
    AppointmentType,
    CalendarFeed,
    DayHours,
    OpeningHours,
    Site,
)
from agenda.selectors import feed_for_token
from core import tenancy
from core.audit.models import AuditEvent
from tests.agenda.conftest import Agenda, at, next_weekday
from tests.fixtures import World
from tests.records.test_views import login


def url(world: World, route: str) -> str:
    return f"/p/{world.practice_a.slug}/agenda/reglages/{route}"


def page(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.content.decode())


def count(model, world: World) -> int:  # type: ignore[no-untyped-def]
    """Rows of practice A (row-level security shows none outside a practice)."""
    tenancy.activate(world.practice_a.pk)
    found = model.objects.count()
    tenancy.activate(None)
    return int(found)


def week_post(site: Site, **days: list[tuple[str, str]]) -> dict[str, str]:
    """The week form: ``d0=[("08:00", "12:00"), ...]`` for Monday..."""
    data: dict[str, str] = {}
    for day, spans in days.items():
        for index, (starts, ends) in enumerate(spans):
            data[f"{day}_{index}_site"] = str(site.pk)
            data[f"{day}_{index}_starts"] = starts
            data[f"{day}_{index}_ends"] = ends
    return data


ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


# --- the index ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_the_settings_index_lists_what_each_person_may_set(
    client: Client, world: World, agenda: Agenda, who: str
) -> None:
    person = getattr(world, who)
    text = page(login(client, person).get(url(world, "")))
    hours_of_alice = url(world, f"horaires/{world.alice.pk}/")
    hours_of_bob = url(world, f"horaires/{world.bob.pk}/")
    assert hours_of_alice in text
    if who == "alice":  # her own hours only; the frame is the desk's; her feed
        assert hours_of_bob not in text and url(world, "sites/") not in text
        assert url(world, "calendrier/") in text
    else:
        assert hours_of_bob in text and url(world, "sites/") in text
        assert url(world, "calendrier/") not in text


# --- sites and types ---------------------------------------------------------------------


def test_the_secretary_adds_and_changes_a_site(
    client: Client, world: World, agenda: Agenda
) -> None:
    sam = login(client, world.sam)
    data = {"name": "Annexe", "address": "1 place du Marché", "city": "Lyon"}
    assert sam.post(url(world, "sites/"), data).status_code == 302
    tenancy.activate(world.practice_a.pk)
    annexe = Site.objects.get(name="Annexe")
    tenancy.activate(None)
    response = sam.post(url(world, f"sites/{annexe.pk}/"), {**data, "phone": "04 00"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="agenda.site_saved").count() == 2


@pytest.mark.parametrize(
    ("language", "message"),
    [("fr", "Un lieu de consultation porte déjà ce nom."), ("en", "A site already has this name.")],
)
def test_a_duplicate_site_is_refused_in_both_languages(
    client: Client, world: World, agenda: Agenda, language: str, message: str
) -> None:
    before = count(Site, world)
    response = login(client, world.sam).post(
        url(world, "sites/"), {"name": "cabinet"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    assert message in page(response)
    assert count(Site, world) == before


def test_a_practitioner_cannot_change_the_sites(
    client: Client, world: World, agenda: Agenda
) -> None:
    response = login(client, world.alice).post(url(world, "sites/"), {"name": "Annexe"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor_id=world.alice.pk).exists()
    assert count(Site, world) == 1


@pytest.mark.parametrize(
    ("minutes", "language", "message"),
    [
        ("0", "fr", "La durée doit être comprise entre 1 et 480 minutes."),
        ("0", "en", "The length must be between 1 and 480 minutes."),
        ("-5", "fr", "La durée doit être comprise entre 1 et 480 minutes."),
        ("600", "en", "The length must be between 1 and 480 minutes."),
    ],
)
def test_a_type_of_zero_or_bad_length_is_refused(
    client: Client, world: World, agenda: Agenda, minutes: str, language: str, message: str
) -> None:
    before = count(AppointmentType, world)
    response = login(client, world.sam).post(
        url(world, "types/"),
        {"name": "Éclair", "minutes": minutes, "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert message in page(response)
    assert count(AppointmentType, world) == before


def test_the_secretary_adds_a_home_visit_type_and_retires_it(
    client: Client, world: World, agenda: Agenda
) -> None:
    sam = login(client, world.sam)
    data = {"name": "Visite longue", "minutes": "45", "is_home_visit": "on", "is_active": "on"}
    assert sam.post(url(world, "types/"), data).status_code == 302
    tenancy.activate(world.practice_a.pk)
    made = AppointmentType.objects.get(name="Visite longue")
    assert made.minutes == 45 and made.is_home_visit and made.is_active
    tenancy.activate(None)
    data.pop("is_active")
    assert sam.post(url(world, f"types/{made.pk}/"), data).status_code == 302
    tenancy.activate(world.practice_a.pk)
    made.refresh_from_db()
    assert not made.is_active


# --- a practitioner's week ---------------------------------------------------------------


def test_a_practitioner_sets_their_own_week(client: Client, world: World, agenda: Agenda) -> None:
    alice = login(client, world.alice)
    form = page(alice.get(url(world, f"horaires/{world.alice.pk}/")))
    assert "Lundi" in form and "Dimanche" in form
    data = week_post(
        agenda.site, d0=[("08:30", "12:00"), ("14:00", "18:00")], d3=[("09:00", "12:00")]
    )
    response = alice.post(url(world, f"horaires/{world.alice.pk}/"), data)
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    hours = OpeningHours.objects.filter(practitioner=world.alice)
    assert sorted((h.weekday, h.starts.hour) for h in hours) == [(0, 8), (0, 14), (3, 9)]


BAD_WEEKS = {
    "end before start": ({"d1": [("12:00", "08:00")]}, "finir après son début", "end after it"),
    "overlapping spans": (
        {"d1": [("08:00", "12:00"), ("11:00", "13:00")]},
        "se chevauchent",
        "overlap",
    ),
}


@pytest.mark.parametrize("case", list(BAD_WEEKS))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_bad_week_is_refused_in_both_languages_and_stores_nothing(
    client: Client, world: World, agenda: Agenda, case: str, language: str
) -> None:
    days, french, english = BAD_WEEKS[case]
    before = count(OpeningHours, world)
    response = login(client, world.sam).post(
        url(world, f"horaires/{world.alice.pk}/"),
        week_post(agenda.site, **days),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert (french if language == "fr" else english) in page(response)
    assert count(OpeningHours, world) == before


@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_unknown_site_is_refused(
    client: Client, world: World, agenda: Agenda, language: str
) -> None:
    before = count(OpeningHours, world)
    data = {"d0_0_site": "999999", "d0_0_starts": "08:00", "d0_0_ends": "12:00"}
    response = login(client, world.sam).post(
        url(world, f"horaires/{world.alice.pk}/"), data, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    expected = "Sélectionnez un choix valide" if language == "fr" else "Select a valid choice"
    assert expected in page(response)
    assert count(OpeningHours, world) == before


def test_a_half_filled_span_is_refused(client: Client, world: World, agenda: Agenda) -> None:
    before = count(OpeningHours, world)
    response = login(client, world.sam).post(
        url(world, f"horaires/{world.alice.pk}/"),
        {"d0_0_site": str(agenda.site.pk), "d0_0_starts": "08:00"},
    )
    assert response.status_code == 400
    assert "Indiquez le début et la fin." in page(response)
    assert count(OpeningHours, world) == before


def test_a_practitioner_cannot_edit_anothers_hours_and_it_is_audited(
    client: Client, world: World, agenda: Agenda
) -> None:
    before = count(OpeningHours, world)
    alice = login(client, world.alice)
    hours_of_bob = url(world, f"horaires/{world.bob.pk}/")
    assert alice.get(hours_of_bob).status_code == 403
    response = alice.post(hours_of_bob, week_post(agenda.site, d0=[("08:00", "09:00")]))
    assert response.status_code == 403
    denied = AuditEvent.objects.filter(
        action="access.denied", actor_id=world.alice.pk, target=f"person:{world.bob.pk}"
    )
    assert denied.count() == 2
    assert count(OpeningHours, world) == before


def test_the_secretary_sets_a_practitioners_hours(
    client: Client, world: World, agenda: Agenda
) -> None:
    response = login(client, world.sam).post(
        url(world, f"horaires/{world.bob.pk}/"), week_post(agenda.site, d4=[("10:00", "16:00")])
    )
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert [
        (h.weekday, h.starts.hour) for h in OpeningHours.objects.filter(practitioner=world.bob)
    ] == [(4, 10)]


def test_another_practices_practitioner_is_refused(
    client: Client, world: World, agenda: Agenda
) -> None:
    sam = login(client, world.sam)
    assert sam.get(url(world, f"horaires/{world.charlie.pk}/")).status_code == 404
    other = f"/p/{world.practice_b.slug}/agenda/reglages/horaires/{world.charlie.pk}/"
    assert sam.get(other).status_code == 403


# --- one day's exception ---------------------------------------------------------------


def test_one_days_exception_replaces_the_week_that_day(
    client: Client, world: World, agenda: Agenda
) -> None:
    day = next_weekday(2)
    data = {
        "day": day.isoformat(),
        "s_0_site": str(agenda.site.pk),
        "s_0_starts": "10:00",
        "s_0_ends": "13:00",
    }
    alice = login(client, world.alice)
    assert alice.post(url(world, f"horaires/{world.alice.pk}/jour/"), data).status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert [(d.day, d.starts.hour) for d in DayHours.objects.all()] == [(day, 10)]
    tenancy.activate(None)
    bad = {**data, "s_0_starts": "13:00", "s_0_ends": "10:00"}
    response = alice.post(url(world, f"horaires/{world.alice.pk}/jour/"), bad, **ENGLISH)
    assert response.status_code == 400
    assert "Each span must end after it starts" in page(response)
    assert count(DayHours, world) == 1


# --- absences, closures and holidays -------------------------------------------------


def test_an_absence_lists_the_appointments_already_booked_to_call_the_patients(
    client: Client, world: World, agenda: Agenda
) -> None:
    from agenda import services
    from agenda.services import Booking

    day = next_weekday(1)
    services.appointment_book(
        actor=world.actor(world.sam),
        booking=Booking(
            practitioner_id=world.alice.pk,
            type_id=agenda.consultation.pk,
            starts_at=at(day, 9),
            patient_id=world.paul.pk,
            reason="douleur thoracique",
        ),
    )
    tenancy.activate(None)
    response = login(client, world.sam).post(
        url(world, "absences/"),
        {
            "practitioner": str(world.alice.pk),
            "starts_at": f"{day.isoformat()}T00:00",
            "ends_at": f"{(day + timedelta(days=1)).isoformat()}T00:00",
            "label": "Formation",
        },
    )
    assert response.status_code == 200
    text = page(response)
    assert "appelez les patients" in text and world.paul.display_name in text
    assert "douleur thoracique" not in text  # the desk calls, it does not read reasons
    assert count(Absence, world) == 1
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get().status == "booked"  # not cancelled behind anyone


@pytest.mark.parametrize(
    ("language", "message"),
    [("fr", "La fin doit venir après le début."), ("en", "The end must come after the start.")],
)
def test_an_absence_ending_before_it_starts_is_refused(
    client: Client, world: World, agenda: Agenda, language: str, message: str
) -> None:
    day = next_weekday(1)
    response = login(client, world.alice).post(
        url(world, "absences/"),
        {
            "practitioner": str(world.alice.pk),
            "starts_at": f"{day.isoformat()}T12:00",
            "ends_at": f"{day.isoformat()}T08:00",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    assert message in page(response)
    assert count(Absence, world) == 0


def test_a_practitioner_may_not_close_the_practice_nor_set_anothers_absence(
    client: Client, world: World, agenda: Agenda
) -> None:
    day = next_weekday(1)
    alice = login(client, world.alice)
    form = page(alice.get(url(world, "absences/")))
    assert "Tout le cabinet est fermé" not in form and "Dr Bob Blanc" not in form
    for who in ("practice", str(world.bob.pk)):
        response = alice.post(
            url(world, "absences/"),
            {
                "practitioner": who,
                "starts_at": f"{day.isoformat()}T08:00",
                "ends_at": f"{day.isoformat()}T12:00",
            },
        )
        assert response.status_code == 400  # not a choice offered to her
    assert count(Absence, world) == 0


def test_removing_an_absence_asks_for_a_confirmation(
    client: Client, world: World, agenda: Agenda
) -> None:
    sam = login(client, world.sam)
    day = next_weekday(1)
    sam.post(
        url(world, "absences/"),
        {
            "practitioner": "practice",
            "starts_at": f"{day.isoformat()}T08:00",
            "ends_at": f"{day.isoformat()}T12:00",
        },
    )
    tenancy.activate(world.practice_a.pk)
    absence = Absence.objects.get()
    tenancy.activate(None)
    remove = url(world, f"absences/{absence.pk}/supprimer/")
    first = sam.post(remove)
    assert first.status_code == 200 and "Oui, supprimer cette absence" in page(first)
    assert count(Absence, world) == 1
    assert login(Client(), world.alice).post(remove, {"confirmed": "on"}).status_code == 403
    assert sam.post(remove, {"confirmed": "on"}).status_code == 302
    assert count(Absence, world) == 0


def test_the_desk_adds_the_years_public_holidays(
    client: Client, world: World, agenda: Agenda
) -> None:
    sam = login(client, world.sam)
    assert sam.post(url(world, "jours-feries/"), {"year": "2031"}).status_code == 302
    assert count(Absence, world) == 11
    assert sam.post(url(world, "jours-feries/"), {"year": "2031"}).status_code == 302
    assert count(Absence, world) == 11  # those already there are kept, not doubled
    response = sam.post(url(world, "jours-feries/"), {"year": "1900"}, **ENGLISH)
    assert response.status_code == 400 and "between 2000 and 2100" in page(response)
    assert (
        login(Client(), world.alice).post(url(world, "jours-feries/"), {"year": "2032"}).status_code
        == 403
    )
    assert count(Absence, world) == 11


# --- the calendar feed ------------------------------------------------------------------


def test_the_practitioner_creates_a_feed_seen_once_and_revokes_it(
    client: Client, world: World, agenda: Agenda
) -> None:
    alice = login(client, world.alice)
    form = page(alice.get(url(world, "calendrier/")))
    assert "Inclure les noms des patients et les motifs" in form
    assert "checked" not in form.split('name="with_names"')[1].split(">")[0]  # off by default
    assert "Désactivé par défaut" in form  # the warning

    created = alice.post(url(world, "calendrier/"), {})
    assert created.status_code == 200
    text = page(created)
    address = text.split('id="feed-url" value="', 1)[1].split('"', 1)[0]
    assert address.startswith("http://testserver/agenda/ical/") and address.endswith(".ics")
    token = address.rsplit("/", 1)[1].removesuffix(".ics")
    assert created["Cache-Control"].startswith("max-age=0")
    feed = feed_for_token(token)
    assert feed is not None and not feed.with_names and feed.practitioner_id == world.alice.pk
    assert token not in page(alice.get(url(world, "calendrier/")))  # shown once

    revoke = url(world, "calendrier/revoquer/")
    asked = alice.post(revoke, {"feed": feed.pk})
    assert asked.status_code == 200 and "Oui, révoquer cette adresse" in page(asked)
    assert feed_for_token(token) is not None
    assert alice.post(revoke, {"feed": feed.pk, "confirmed": "on"}).status_code == 302
    assert feed_for_token(token) is None


def test_only_the_practitioner_manages_their_feed(
    client: Client, world: World, agenda: Agenda
) -> None:
    feeds = count(CalendarFeed, world)
    sam = login(client, world.sam)
    assert sam.get(url(world, "calendrier/")).status_code == 403
    assert sam.post(url(world, "calendrier/"), {"with_names": "on"}).status_code == 403
    assert count(CalendarFeed, world) == feeds
    alice = login(Client(), world.alice)
    alice.post(url(world, "calendrier/"), {})
    tenancy.activate(world.practice_a.pk)
    feed = CalendarFeed.objects.get()
    tenancy.activate(None)
    bob = login(Client(), world.bob)
    revoke = url(world, "calendrier/revoquer/")
    assert bob.post(revoke, {"feed": feed.pk, "confirmed": "on"}).status_code == 404
    tenancy.activate(world.practice_a.pk)
    feed.refresh_from_db()
    assert feed.revoked_at is None
