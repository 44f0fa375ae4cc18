"""The desk's pages as the secretary and the practitioner use them: the agenda, booking on
the phone, one appointment, the waiting room, and the paper. Bad input answers 400 with
a clear error in French and English and stores nothing; a secretary never reads a
clinical reason on any page or sheet; another practice sees nothing."""

from __future__ import annotations

import html
from datetime import timedelta

import factory
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda.models import Appointment, Channel, Status
from core import tenancy
from core.audit.models import AuditEvent
from records.models import Patient
from tests.agenda.conftest import Agenda, at, next_weekday
from tests.factories import PatientFactory
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

CLINICAL = "douleur thoracique depuis hier"
ADMINISTRATIVE = "certificat de sport"


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A booked appointment (the practice context must be active: RLS)."""

    class Meta:
        model = Appointment

    channel = Channel.PHONE
    status = Status.BOOKED
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + timedelta(minutes=20))


def appointment(world: World, agenda: Agenda, when, **more) -> Appointment:  # type: ignore[no-untyped-def]
    tenancy.activate(world.practice_a.pk)
    values = {
        "practice": world.practice_a,
        "practitioner": world.alice,
        "patient": world.paul,
        "type": agenda.consultation,
        "site": agenda.site,
        "starts_at": when,
        "created_by": world.alice,
    }
    values.update(more)
    made = AppointmentFactory(**values)
    tenancy.activate(None)
    return made


def count_appointments(world: World) -> int:
    tenancy.activate(world.practice_a.pk)
    found = Appointment.objects.count()
    tenancy.activate(None)
    return found


def url(world: World, rest: str) -> str:
    return f"/p/{world.practice_a.slug}/{rest}"


@pytest.fixture
def sam(world: World) -> Client:
    return login(Client(), world.sam)


@pytest.fixture
def alice(world: World) -> Client:
    return login(Client(), world.alice)


@pytest.fixture
def desk(request: pytest.FixtureRequest, world: World) -> Client:
    """The secretary or the practitioner (parametrized by name)."""
    return login(Client(), getattr(world, request.param))


BOTH = pytest.mark.parametrize("desk", ["sam", "alice"], indirect=True)


# --- the agenda ------------------------------------------------------------------------------


@BOTH
def test_the_week_shows_each_appointment_with_its_status_and_navigation(desk, world, agenda):
    monday = next_weekday(0)
    appointment(world, agenda, at(monday, 9))
    response = desk.get(
        url(world, f"agenda/?praticien={world.alice.pk}&semaine={monday + timedelta(days=2)}")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "DUPONT Paul" in page and "Consultation" in page and "Prévu" in page
    assert f"semaine={monday - timedelta(days=7)}" in page  # previous week
    assert f"semaine={monday + timedelta(days=7)}" in page  # next week
    assert "prendre-rdv" in page


@BOTH
def test_the_day_shows_that_day_only(desk, world, agenda):
    monday = next_weekday(0)
    appointment(world, agenda, at(monday, 9))
    appointment(world, agenda, at(monday + timedelta(days=1), 9), patient=None, caller_name="Mme X")
    response = desk.get(url(world, f"agenda/?praticien={world.alice.pk}&jour={monday}"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "DUPONT Paul" in page and "Mme X" not in page


def test_an_unknown_practitioner_has_no_agenda(sam, world, agenda):
    assert sam.get(url(world, f"agenda/?praticien={world.charlie.pk}")).status_code == 404
    assert sam.get(url(world, "agenda/?praticien=abc")).status_code == 404


# --- booking ---------------------------------------------------------------------------------


@BOTH
def test_the_booking_page_finds_the_patient_and_shows_the_free_times(desk, world, agenda):
    found = desk.get(url(world, "agenda/prendre-rdv/?q=dupont"))
    assert found.status_code == 200
    assert f"?patient={world.paul.pk}" in found.content.decode()
    chosen = desk.get(url(world, f"agenda/prendre-rdv/?patient={world.paul.pk}"))
    assert chosen.status_code == 200
    page = chosen.content.decode()
    assert "DUPONT Paul" in page
    # Paul's GP is chosen first, and her free times are buttons.
    assert f'name="slot" value="{world.alice.pk}|' in page


def slot_value(world: World, when) -> str:  # type: ignore[no-untyped-def]
    return f"{world.alice.pk}|{when.isoformat()}"


def booking_form(world: World, agenda: Agenda, **more: object) -> dict[str, object]:
    values: dict[str, object] = {
        "patient": world.paul.pk,
        "practitioner": world.alice.pk,
        "type": agenda.consultation.pk,
        "channel": "phone",
    }
    values.update(more)
    return values


@BOTH
def test_a_free_time_is_booked_from_its_button(desk, world, agenda):
    when = at(next_weekday(1), 10)
    response = desk.post(
        url(world, "agenda/prendre-rdv/"), booking_form(world, agenda, slot=slot_value(world, when))
    )
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    made = Appointment.objects.get()
    assert made.starts_at == when and made.channel == "phone" and made.patient_id == world.paul.pk
    assert response["Location"] == url(world, f"rdv/{made.pk}/")


def test_a_caller_not_registered_is_booked_by_name_at_a_precise_time(sam, world, agenda):
    day = next_weekday(2)
    response = sam.post(
        url(world, "agenda/prendre-rdv/"),
        booking_form(
            world,
            agenda,
            patient="",
            caller_name="Mme Odette Marchand",
            caller_phone="04 78 11 22 33",
            day=day.isoformat(),
            at="11:00",
            action="precise",
        ),
    )
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    made = Appointment.objects.get()
    assert made.patient_id is None and made.caller_name == "Mme Odette Marchand"
    assert made.starts_at == at(day, 11)


def test_outside_the_opening_hours_is_booked_with_the_explicit_override(sam, world, agenda):
    sunday = next_weekday(6)
    values = booking_form(world, agenda, day=sunday.isoformat(), at="10:00", action="precise")
    assert sam.post(url(world, "agenda/prendre-rdv/"), values).status_code == 400
    values["override_hours"] = "on"
    assert sam.post(url(world, "agenda/prendre-rdv/"), values).status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get().outside_hours is True


def test_a_series_books_every_occurrence(sam, world, agenda):
    monday = next_weekday(0)
    values = booking_form(
        world,
        agenda,
        type=agenda.nurse_round.pk,
        slot=slot_value(world, at(monday, 8)),
        every_weeks=1,
        count=4,
    )
    response = sam.post(url(world, "agenda/prendre-rdv/"), values)
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    found = list(Appointment.objects.order_by("starts_at"))
    assert [a.starts_at for a in found] == [at(monday + timedelta(weeks=n), 8) for n in range(4)]
    assert len({a.series_id for a in found}) == 1


def _past(world: World, agenda: Agenda) -> dict[str, object]:
    yesterday = timezone.localdate() - timedelta(days=1)
    return {"day": yesterday.isoformat(), "at": "10:00", "action": "precise"}


def _sunday(world: World, agenda: Agenda) -> dict[str, object]:
    return {"day": next_weekday(6).isoformat(), "at": "10:00", "action": "precise"}


def _monday(**more: object):  # type: ignore[no-untyped-def]
    def values(world: World, agenda: Agenda) -> dict[str, object]:
        return {"day": next_weekday(0).isoformat(), "at": "10:00", "action": "precise", **more}

    return values


def _unknown_practitioner(world: World, agenda: Agenda) -> dict[str, object]:
    return {**_monday()(world, agenda), "practitioner": world.charlie.pk}


def _unknown_type(world: World, agenda: Agenda) -> dict[str, object]:
    return {**_monday()(world, agenda), "type": 999999}


@pytest.mark.parametrize(
    ("change", "french", "english"),
    [
        (_past, "dans le passé", "in the past"),
        (_sunday, "en dehors des horaires", "outside the practitioner's opening hours"),
        (_monday(minutes=0), "durée", "length"),
        (_monday(minutes=-20), "durée", "length"),
        (_unknown_practitioner, "Choisissez un praticien", "Choose a practitioner"),
        (_unknown_type, "Choisissez un type", "Choose a type"),
    ],
)
@pytest.mark.parametrize("desk", ["sam", "alice"], indirect=True)
def test_bad_bookings_answer_400_in_french_and_english_and_store_nothing(
    desk, world, agenda, change, french, english
):
    values = {**booking_form(world, agenda), **change(world, agenda)}
    refused = desk.post(url(world, "agenda/prendre-rdv/"), values)
    assert refused.status_code == 400
    assert french in html.unescape(refused.content.decode())
    assert 'role="alert"' in refused.content.decode()
    english_page = desk.post(url(world, "agenda/prendre-rdv/"), values, HTTP_ACCEPT_LANGUAGE="en")
    assert english_page.status_code == 400
    assert english in html.unescape(english_page.content.decode())
    assert count_appointments(world) == 0


def test_a_taken_time_says_so_and_offers_the_next_free_times(sam, world, agenda):
    when = at(next_weekday(1), 10)
    appointment(world, agenda, when, patient=None, caller_name="Premier appelant")
    response = sam.post(
        url(world, "agenda/prendre-rdv/"), booking_form(world, agenda, slot=slot_value(world, when))
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "déjà pris" in page
    assert f'value="{world.alice.pk}|{(when + timedelta(minutes=20)).isoformat()}"' in page
    assert count_appointments(world) == 1


def test_only_a_practitioner_is_offered_the_administrative_reason(sam, alice, world, agenda):
    label = "Motif administratif (visible par l&#x27;accueil)"
    page = f"agenda/prendre-rdv/?patient={world.paul.pk}"
    assert label in alice.get(url(world, page)).content.decode()
    assert label not in sam.get(url(world, page)).content.decode()


# --- one appointment -------------------------------------------------------------------------


@BOTH
def test_the_appointment_page_shows_it_and_prints_the_card(desk, world, agenda):
    made = appointment(world, agenda, at(next_weekday(3), 9, 30))
    page = desk.get(url(world, f"rdv/{made.pk}/"))
    assert page.status_code == 200
    assert "DUPONT Paul" in page.content.decode() and "carton.pdf" in page.content.decode()


@BOTH
def test_an_appointment_is_moved_and_an_overlapping_move_is_refused(desk, world, agenda):
    day = next_weekday(1)
    made = appointment(world, agenda, at(day, 9))
    appointment(world, agenda, at(day, 10), patient=None, caller_name="Déjà là")
    move = url(world, f"rdv/{made.pk}/deplacer/")
    overlapping = desk.post(move, {"day": day.isoformat(), "at": "10:10"})
    assert overlapping.status_code == 400
    assert "déjà pris" in overlapping.content.decode()
    english = desk.post(move, {"day": day.isoformat(), "at": "10:10"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "already taken" in english.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).starts_at == at(day, 9)
    tenancy.activate(None)
    assert desk.post(move, {"day": day.isoformat(), "at": "11:00"}).status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).starts_at == at(day, 11)


def test_a_move_into_the_past_or_outside_hours_is_refused(sam, world, agenda):
    made = appointment(world, agenda, at(next_weekday(1), 9))
    move = url(world, f"rdv/{made.pk}/deplacer/")
    yesterday = timezone.localdate() - timedelta(days=1)
    assert sam.post(move, {"day": yesterday.isoformat(), "at": "09:00"}).status_code == 400
    sunday = next_weekday(6)
    assert sam.post(move, {"day": sunday.isoformat(), "at": "09:00"}).status_code == 400
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).starts_at == at(next_weekday(1), 9)


@BOTH
def test_a_cancellation_is_confirmed_with_a_reason(desk, world, agenda):
    made = appointment(world, agenda, at(next_weekday(1), 9))
    cancel = url(world, f"rdv/{made.pk}/annuler/")
    confirm = desk.get(cancel)
    assert confirm.status_code == 200
    assert "Confirmer l'annulation" in html.unescape(confirm.content.decode())
    assert desk.post(cancel, {"cancel_reason": ""}).status_code == 400
    assert desk.post(cancel, {"cancel_reason": "Le patient a appelé"}).status_code == 302
    tenancy.activate(world.practice_a.pk)
    cancelled = Appointment.objects.get(pk=made.pk)
    assert cancelled.status == Status.CANCELLED and cancelled.cancel_reason == "Le patient a appelé"


def test_a_missed_appointment_is_marked_once_its_time_has_come(sam, world, agenda):
    future = appointment(world, agenda, at(next_weekday(1), 9))
    refused = sam.post(url(world, f"rdv/{future.pk}/absent/"))
    assert refused.status_code == 400 and "pas encore commencé" in refused.content.decode()
    tenancy.activate(world.practice_a.pk)
    Appointment.objects.filter(pk=future.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    tenancy.activate(None)
    assert sam.post(url(world, f"rdv/{future.pk}/absent/")).status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=future.pk).status == Status.NO_SHOW


def today_at_now(world: World, agenda: Agenda, **more: object) -> Appointment:
    """An appointment of today, starting now (the hours do not matter: made directly)."""
    now = timezone.now().replace(microsecond=0)
    return appointment(world, agenda, now, **more)


@BOTH
def test_a_booked_patient_is_checked_in_into_the_waiting_room(desk, world, agenda):
    made = today_at_now(world, agenda)
    room = desk.get(url(world, "salle-d-attente/?praticien=any"))
    assert f"rdv/{made.pk}/arrivee/" in room.content.decode()  # expected today
    response = desk.post(url(world, f"rdv/{made.pk}/arrivee/"))
    assert response.status_code == 302 and response["Location"] == url(world, "salle-d-attente/")
    waiting = desk.get(url(world, "salle-d-attente/?praticien=any"))
    assert "DUPONT Paul" in waiting.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).status == Status.ARRIVED


def test_a_caller_booked_by_name_is_registered_then_checked_in(sam, world, agenda):
    made = today_at_now(world, agenda, patient=None, caller_name="Mme Marchand")
    page = sam.get(url(world, f"rdv/{made.pk}/"))
    assert "patients/nouveau/" in page.content.decode()
    assert sam.post(url(world, f"rdv/{made.pk}/arrivee/")).status_code == 400  # not registered
    found = sam.get(url(world, f"rdv/{made.pk}/?q=dupont")).content.decode()
    assert f'name="patient" value="{world.paul.pk}"' in found
    checked = sam.post(url(world, f"rdv/{made.pk}/arrivee/"), {"patient": world.paul.pk})
    assert checked.status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).patient_id == world.paul.pk


def test_the_practitioner_calls_the_patient_in_to_the_consultation_form(alice, sam, world, agenda):
    made = today_at_now(world, agenda)
    sam.post(url(world, f"rdv/{made.pk}/arrivee/"))
    # One "Recevoir" for the whole agenda: the waiting room posts to the day's.
    receive = f"/p/{world.practice_a.slug}/aujourdhui/{made.pk}/recevoir/"
    room = alice.get(url(world, "salle-d-attente/")).content.decode()
    assert receive in room
    assert receive not in sam.get(url(world, "salle-d-attente/")).content.decode()
    assert sam.post(receive).status_code == 403
    response = alice.post(receive)
    assert response.status_code == 302
    assert response["Location"] == url(
        world, f"patients/{world.paul.pk}/consultation/?origin=appointment:{made.pk}"
    )
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).status == Status.IN_CONSULTATION


@BOTH
def test_a_walk_in_joins_the_queue(desk, world, agenda):
    found = desk.get(url(world, "salle-d-attente/?q=dupont")).content.decode()
    assert f'name="patient" value="{world.paul.pk}"' in found
    response = desk.post(
        url(world, "salle-d-attente/sans-rdv/"),
        {"patient": world.paul.pk, "type": agenda.consultation.pk, "practitioner": "any"},
    )
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    walk_in = Appointment.objects.get()
    assert walk_in.channel == Channel.WALK_IN and walk_in.practitioner_id is None
    tenancy.activate(None)
    assert "DUPONT Paul" in desk.get(url(world, "salle-d-attente/")).content.decode()


def test_a_walk_in_without_a_patient_or_with_an_unknown_type_is_refused(sam, world, agenda):
    walk_in = url(world, "salle-d-attente/sans-rdv/")
    assert (
        sam.post(walk_in, {"type": agenda.consultation.pk, "practitioner": "any"}).status_code
        == 400
    )
    unknown = sam.post(walk_in, {"patient": world.paul.pk, "type": 999999, "practitioner": "any"})
    assert unknown.status_code == 400
    assert count_appointments(world) == 0


# --- privacy ---------------------------------------------------------------------------------


def test_a_secretary_never_reads_a_clinical_reason_on_any_page_or_sheet(sam, alice, world, agenda):
    day = next_weekday(1)
    clinical = appointment(world, agenda, at(day, 9), reason=CLINICAL)
    appointment(world, agenda, at(day, 10), reason=ADMINISTRATIVE, reason_is_administrative=True)
    walk = today_at_now(world, agenda, reason=CLINICAL + " (aujourd'hui)")
    sam.post(url(world, f"rdv/{walk.pk}/arrivee/"))
    pages = [
        f"agenda/?praticien={world.alice.pk}&semaine={day}",
        f"agenda/?praticien={world.alice.pk}&jour={day}",
        f"rdv/{clinical.pk}/",
        f"rdv/{clinical.pk}/annuler/",
        "salle-d-attente/?praticien=any",
    ]
    for page in pages:
        secretary = sam.get(url(world, page)).content.decode()
        assert CLINICAL not in secretary, page
    sheets = [
        f"agenda/{world.alice.pk}/{day}/journee.pdf",
        f"agenda/{world.alice.pk}/{day}/semaine.pdf",
        f"rdv/{clinical.pk}/carton.pdf",
    ]
    for sheet in sheets:
        assert CLINICAL not in pdf_text(sam.get(url(world, sheet)).content), sheet
    # The administrative reason is the desk's; the practitioner reads both.
    assert ADMINISTRATIVE in sam.get(url(world, pages[0])).content.decode()
    assert CLINICAL in alice.get(url(world, pages[0])).content.decode()
    assert CLINICAL in pdf_text(alice.get(url(world, sheets[0])).content)


def test_another_practice_sees_nothing(world, agenda):
    made = appointment(world, agenda, at(next_weekday(1), 9))
    charlie = login(Client(), world.charlie)
    for page in ("agenda/", "agenda/prendre-rdv/", "salle-d-attente/", f"rdv/{made.pk}/"):
        assert charlie.get(url(world, page)).status_code == 403, page
    other = f"/p/{world.practice_b.slug}/"
    assert charlie.get(f"{other}rdv/{made.pk}/").status_code == 404
    assert charlie.get(f"{other}rdv/{made.pk}/carton.pdf").status_code == 404
    assert charlie.post(f"{other}rdv/{made.pk}/arrivee/").status_code == 404
    assert charlie.post(f"{other}rdv/{made.pk}/annuler/", {"cancel_reason": "x"}).status_code == 404
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.get(pk=made.pk).status == Status.BOOKED


def test_a_practitioner_the_patient_excluded_is_refused_and_it_is_audited(world, agenda):
    from core.access.models import Restriction

    made = appointment(world, agenda, at(next_weekday(1), 9))
    tenancy.activate(world.practice_a.pk)
    Restriction.objects.create(
        practice=world.practice_a,
        patient_id=world.paul.pk,
        person=world.bob,
        source="papier",
        recorded_by=world.sam,
    )
    tenancy.activate(None)
    bob = login(Client(), world.bob)
    assert bob.get(url(world, f"rdv/{made.pk}/")).status_code == 403
    week = bob.get(url(world, f"agenda/?praticien={world.alice.pk}&semaine={next_weekday(1)}"))
    assert "DUPONT Paul" not in week.content.decode() and "Occupé" in week.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert AuditEvent.objects.filter(
        outcome="denied", actor_id=world.bob.pk, patient_id=world.paul.pk
    ).exists()


# --- the paper -------------------------------------------------------------------------------


def test_the_card_says_when_with_whom_where_and_how_to_cancel_and_is_audited(sam, world, agenda):
    day = next_weekday(3)
    made = appointment(world, agenda, at(day, 9, 30))
    appointment(world, agenda, at(day + timedelta(weeks=1), 14), practitioner=world.bob)
    response = sam.get(url(world, f"rdv/{made.pk}/carton.pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    from agenda.printing import day_in_words

    assert day_in_words(day) in text and "9 h 30" in text
    assert "Dr Alice Arnaud" in text
    assert "3 rue des Lilas" in text and "69003 Lyon" in text
    assert "pour annuler, appelez le 04 78 00 00 00" in text
    assert "Vos rendez-vous suivants" in text and "Dr Bob Blanc" in text and "14 h 00" in text
    tenancy.activate(world.practice_a.pk)
    printed = AuditEvent.objects.get(action="appointment.print")
    assert printed.patient_id == world.paul.pk and printed.actor_id == world.sam.pk


@BOTH
def test_the_day_and_week_sheets_list_the_appointments_and_audit_each_patient(desk, world, agenda):
    monday = next_weekday(0)
    appointment(world, agenda, at(monday, 9))
    appointment(
        world, agenda, at(monday + timedelta(days=2), 15), patient=None, caller_name="M. Roux"
    )
    day = pdf_text(desk.get(url(world, f"agenda/{world.alice.pk}/{monday}/journee.pdf")).content)
    assert "Dr Alice Arnaud" in day and "DUPONT Paul" in day and "9 h 00" in day
    assert "M. Roux" not in day
    week = pdf_text(desk.get(url(world, f"agenda/{world.alice.pk}/{monday}/semaine.pdf")).content)
    assert "DUPONT Paul" in week and "M. Roux" in week and "15 h 00" in week
    tenancy.activate(world.practice_a.pk)
    assert (
        AuditEvent.objects.filter(action="appointment.read", patient_id=world.paul.pk).count() == 2
    )


def test_an_unknown_sheet_is_not_found(sam, world, agenda):
    assert (
        sam.get(url(world, f"agenda/{world.charlie.pk}/2030-01-07/journee.pdf")).status_code == 404
    )
    assert sam.get(url(world, f"agenda/{world.alice.pk}/demain/semaine.pdf")).status_code == 404
    assert sam.get(url(world, f"agenda/{world.alice.pk}/9999-12-31/semaine.pdf")).status_code == 404
    # A date no agenda holds in the address is ignored: this week is shown.
    assert sam.get(url(world, "agenda/?jour=9999-12-31")).status_code == 200
    assert sam.get(url(world, "agenda/?semaine=0001-01-01")).status_code == 200


# --- a fixed number of queries ---------------------------------------------------------------


def fill_week(world: World, agenda: Agenda, first: int, how_many: int) -> None:
    """Appointments ``first`` to ``first + how_many`` of Alice over next week, each for its
    own patient (five a day, one after the other from 8:00)."""
    monday = next_weekday(0)
    tenancy.activate(world.practice_a.pk)
    patients = [
        PatientFactory(practice=world.practice_a, gp=world.alice, birth_name=f"Patient{n}")
        for n in range(first, first + how_many)
    ]
    tenancy.activate(None)
    for n, patient in enumerate(patients, start=first):
        day = monday + timedelta(days=n % 5)
        appointment(world, agenda, at(day, 8) + timedelta(minutes=20 * (n // 5)), patient=patient)


def queries_of(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "page",
    [
        lambda world: f"agenda/?praticien={world.alice.pk}&semaine={next_weekday(0)}",
        lambda world: f"agenda/?praticien={world.alice.pk}&jour={next_weekday(0)}",
        lambda world: f"agenda/prendre-rdv/?patient={world.paul.pk}",
    ],
    ids=["week", "day", "booking-slots"],
)
def test_the_agenda_and_the_slot_search_run_a_fixed_number_of_queries(sam, world, agenda, page):
    fill_week(world, agenda, 0, 2)
    path = url(world, page(world))
    sam.get(path)  # warm the caches a first request fills (session, prepared statements)
    few = queries_of(sam, path)
    fill_week(world, agenda, 2, 28)
    many = queries_of(sam, path)
    assert few == many
    tenancy.activate(world.practice_a.pk)
    assert Appointment.objects.count() == 30
    assert Patient.objects.count() == 31
