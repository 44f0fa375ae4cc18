"""The agenda's REST API: the desk's day through it, bad input, who sees what, the audit
trail and a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agenda.models import Absence, Appointment, CalendarFeed, Series, Status
from core import tenancy
from core.access.models import Restriction
from core.audit.models import AuditEvent
from tests.agenda.conftest import Agenda, at, book_in_a_row, next_weekday
from tests.fixtures import World
from tests.token_api import TokenApi

CLINICAL = "douleur thoracique depuis hier"


class Api(TokenApi):
    """One person's personal API token, in one practice, for the agenda's part."""

    part = "agenda/"


@pytest.fixture
def people(world: World, agenda: Agenda) -> dict[str, Api]:
    return {
        "alice": Api(world, world.alice),
        "bob": Api(world, world.bob),
        "sam": Api(world, world.sam),
        "charlie": Api(world, world.charlie, world.practice_b),
    }


def booking(world: World, agenda: Agenda, when: Any, **more: Any) -> dict[str, Any]:
    return {
        "practitioner": world.alice.pk,
        "type": agenda.consultation.pk,
        "starts_at": when.isoformat(),
        "channel": "phone",
        **more,
    }


def book(people: dict[str, Api], world: World, agenda: Agenda, when: Any, **more: Any) -> Any:
    response = people["sam"].send(
        "post", f"patients/{world.paul.pk}/appointments/", booking(world, agenda, when, **more)
    )
    assert response.status_code == 201, response.content
    return response.json()


def rows() -> int:
    tenancy.activate(None)
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT count(*) FROM agenda_appointment")
        return int(cursor.fetchone()[0])


# --- the desk's day -----------------------------------------------------------------------


def test_the_desk_books_from_the_free_slots_and_the_day_runs_through_the_api(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    sam, alice = people["sam"], people["alice"]
    names = {t["name"] for t in sam.get("types/").json()}
    assert {"Consultation", "Visite à domicile"} <= names
    assert [s["name"] for s in sam.get("sites/").json()] == ["Cabinet"]
    assert {p["id"] for p in sam.get("practitioners/").json()} == {world.alice.pk, world.bob.pk}

    after = at(next_weekday(0), 8)
    slots = sam.get(
        f"slots/?practitioner={world.alice.pk}&type={agenda.consultation.pk}"
        f"&after={after.isoformat().replace('+', '%2B')}&limit=3"
    )
    assert slots.status_code == 200, slots.content
    first = slots.json()[0]
    assert len(slots.json()) == 3 and first["practitioner"] == world.alice.pk

    made = sam.send(
        "post",
        f"patients/{world.paul.pk}/appointments/",
        {**booking(world, agenda, after), "starts_at": first["starts_at"]},
    )
    assert made.status_code == 201, made.content
    appointment = made.json()
    assert appointment["name"] and appointment["status"] == "booked"

    # The same time again: 409, the message and the next free slots.
    again = sam.send(
        "post",
        f"patients/{world.paul.pk}/appointments/",
        {**booking(world, agenda, after), "starts_at": first["starts_at"]},
    )
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "taken" and "already taken" in error["message"]
    assert error["next_slots"] and error["next_slots"][0]["starts_at"] != first["starts_at"]

    day = next_weekday(0).isoformat()
    listed = sam.get(f"practitioners/{world.alice.pk}/appointments/?start={day}&end={day}")
    assert [row["id"] for row in listed.json()] == [appointment["id"]]
    mine = sam.get(f"patients/{world.paul.pk}/appointments/").json()
    assert [row["id"] for row in mine] == [appointment["id"]]

    moved = sam.send(
        "post",
        f"appointments/{appointment['id']}/move/",
        {"starts_at": at(next_weekday(0), 15).isoformat()},
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["starts_at"].startswith(f"{day}T15:00")

    arrived = sam.send("post", f"appointments/{appointment['id']}/check-in/")
    assert arrived.json()["status"] == "arrived"
    started = alice.send("post", f"appointments/{appointment['id']}/start/")
    assert started.json()["status"] == "in_consultation", started.content
    done = alice.send("post", f"appointments/{appointment['id']}/finish/")
    assert done.json()["status"] == "done"

    # A walk-in joins the queue and is seen.
    walk = sam.send("post", f"patients/{world.paul.pk}/walk-in/", {"type": agenda.consultation.pk})
    assert walk.status_code == 201, walk.content
    waiting = sam.get("waiting-room/").json()
    assert [row["id"] for row in waiting] == [walk.json()["id"]]
    assert alice.send("post", f"appointments/{walk.json()['id']}/start/").status_code == 200
    assert alice.send("post", f"appointments/{walk.json()['id']}/finish/").status_code == 200
    assert sam.get("waiting-room/").json() == []


def test_a_caller_by_name_a_series_a_cancellation_and_a_missed_appointment(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    sam = people["sam"]
    caller = sam.send(
        "post",
        "appointments/",
        {
            **booking(world, agenda, at(next_weekday(1), 9)),
            "caller_name": "Mme Papier",
            "caller_phone": "04 78 11 22 33",
        },
    )
    assert caller.status_code == 201, caller.content
    assert (caller.json()["name"], caller.json()["registered"]) == ("Mme Papier", False)

    series = sam.send(
        "post",
        f"patients/{world.paul.pk}/series/",
        {
            **booking(world, agenda, at(next_weekday(0), 10), type=agenda.nurse_round.pk),
            "every_weeks": 1,
            "count": 3,
        },
    )
    assert series.status_code == 201, series.content
    occurrences = series.json()["appointments"]
    assert len(occurrences) == 3 and Series.objects.count() == 1

    cancelled = sam.send(
        "post", f"appointments/{occurrences[1]['id']}/cancel/", {"reason": "patient hospitalisé"}
    )
    assert cancelled.json()["status"] == "cancelled"
    no_reason = sam.send("post", f"appointments/{occurrences[2]['id']}/cancel/", {"reason": ""})
    assert no_reason.status_code == 400
    assert "cancel_reason" in no_reason.json()["error"]["fields"]

    # Outside the hours on purpose, a few minutes ago: then the patient did not come.
    late = book(
        people,
        world,
        agenda,
        timezone.now() - timedelta(minutes=5),
        override_hours=True,
        practitioner=world.bob.pk,
    )
    missed = sam.send("post", f"appointments/{late['id']}/no-show/")
    assert missed.json()["status"] == "no_show", missed.content
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == {Status.BOOKED, Status.CANCELLED, Status.NO_SHOW}


def test_schedules_absences_holidays_and_feeds_through_the_api(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    sam, alice, bob = people["sam"], people["alice"], people["bob"]
    booked = book(people, world, agenda, at(next_weekday(2), 9))
    hours = sam.get(f"practitioners/{world.alice.pk}/hours/").json()
    assert len(hours) == 11
    changed = alice.send(
        "put",
        f"practitioners/{world.alice.pk}/hours/",
        {"spans": [{"weekday": 0, "site": agenda.site.pk, "starts": "09:00", "ends": "12:00"}]},
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == [
        {"weekday": 0, "site": agenda.site.pk, "starts": "09:00", "ends": "12:00"}
    ]
    # Bob may not change Alice's hours: refused by the policy.
    other = bob.send("put", f"practitioners/{world.alice.pk}/hours/", {"spans": []})
    assert other.status_code == 403

    day = next_weekday(2)
    away = sam.send(
        "post",
        "absences/",
        {
            "practitioner": world.alice.pk,
            "starts_at": at(day, 8).isoformat(),
            "ends_at": at(day, 19).isoformat(),
            "label": "formation",
        },
    )
    assert away.status_code == 201, away.content
    assert [row["id"] for row in away.json()["appointments"]] == [booked["id"]]
    listed = sam.get(f"absences/?practitioner={world.alice.pk}").json()
    assert [a["label"] for a in listed] == ["formation"]
    removed = sam.send("delete", f"absences/{away.json()['id']}/")
    assert removed.status_code == 204 and not Absence.objects.exists()
    assert sam.send("delete", f"absences/{away.json()['id']}/").status_code == 404

    holidays = sam.send("post", "holidays/", {"year": timezone.localdate().year + 1})
    assert holidays.status_code == 201 and holidays.json()["added"] == 11

    created = alice.send("post", "feeds/", {"with_names": False})
    assert created.status_code == 201, created.content
    feed = created.json()
    assert feed["token"] and feed["url"].endswith(f"/agenda/ical/{feed['token']}.ics")
    listed_feeds = alice.get("feeds/").json()
    assert [f["id"] for f in listed_feeds] == [feed["id"]] and "token" not in listed_feeds[0]
    assert sam.send("post", "feeds/", {}).status_code == 403
    assert sam.get("feeds/").status_code == 403
    assert bob.send("delete", f"feeds/{feed['id']}/").status_code == 403
    assert alice.send("delete", f"feeds/{feed['id'] + 1000}/").status_code == 404
    assert alice.send("delete", f"feeds/{feed['id']}/").status_code == 204
    assert CalendarFeed.objects.get().revoked_at is not None
    assert alice.get("feeds/").json() == []


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"starts_at": "past"}, "starts_at", "past"),
        ({"starts_at": "sunday"}, "starts_at", "outside_hours"),
        ({"minutes": 0}, "minutes", "length"),
        ({"minutes": -10}, "minutes", "length"),
        ({"practitioner": "sam"}, "practitioner", "unknown_practitioner"),
        ({"practitioner": "charlie"}, "practitioner", "unknown_practitioner"),
        ({"type": 999999}, "type", "unknown_type"),
    ],
)
def test_bad_bookings_get_a_clear_400_in_french_and_english_and_store_nothing(
    world: World, agenda: Agenda, people: dict[str, Api], change: dict, field: str, code: str
) -> None:
    values = booking(world, agenda, at(next_weekday(0), 9))
    if change.get("starts_at") == "past":
        values["starts_at"] = (timezone.now() - timedelta(days=1)).isoformat()
    elif change.get("starts_at") == "sunday":
        values["starts_at"] = at(next_weekday(6), 10).isoformat()
    elif change.get("practitioner") in ("sam", "charlie"):
        values["practitioner"] = getattr(world, change["practitioner"]).pk
    else:
        values.update(change)
    messages = {}
    for language in ("fr", "en"):
        response = people["sam"].send(
            "post", f"patients/{world.paul.pk}/appointments/", values, language
        )
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"]
        messages[language] = error["fields"][field][0]
    assert messages["fr"] != messages["en"]
    assert rows() == 0


def test_an_overlapping_move_is_a_409_with_the_next_slots_and_changes_nothing(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    first = book(people, world, agenda, at(next_weekday(0), 9))
    second = book(people, world, agenda, at(next_weekday(0), 10))
    messages = {}
    for language in ("fr", "en"):
        response = people["sam"].send(
            "post",
            f"appointments/{second['id']}/move/",
            {"starts_at": at(next_weekday(0), 9, 10).isoformat()},
            language,
        )
        assert response.status_code == 409, response.content
        messages[language] = response.json()["error"]["message"]
        assert response.json()["error"]["next_slots"]
    assert messages["fr"] != messages["en"] and "déjà pris" in messages["fr"]
    starts = dict(Appointment.objects.values_list("pk", "starts_at"))
    assert starts == {first["id"]: at(next_weekday(0), 9), second["id"]: at(next_weekday(0), 10)}


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2030-01-07T09:00:00\x00"},
        {"starts_at": "9999-12-31T23:59:59+00:00"},
        {"starts_at": "1850-01-01T09:00:00+00:00"},
        {"starts_at": "2030-01-07T09:00:00", "minutes": 10**30},
        {"starts_at": ["not", "a", "date"]},
        {"starts_at": "2030-01-07T09:00:00", "practitioner": "Alice"},
        {"starts_at": "2030-01-07T09:00:00", "practitioner": 2**63},
        {"starts_at": "2030-01-07T09:00:00", "reason": "a\x00b"},
    ],
)
def test_hostile_values_are_a_400_never_a_server_error(
    world: World, agenda: Agenda, people: dict[str, Api], body: dict
) -> None:
    values = {**booking(world, agenda, at(next_weekday(0), 9)), **body}
    response = people["sam"].send("post", f"patients/{world.paul.pk}/appointments/", values)
    assert response.status_code == 400, response.content
    assert rows() == 0


def test_a_naive_time_is_the_practice_s_local_time(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    naive = at(next_weekday(0), 9).replace(tzinfo=None).isoformat()
    made = people["sam"].send(
        "post",
        f"patients/{world.paul.pk}/appointments/",
        {**booking(world, agenda, at(next_weekday(0), 9)), "starts_at": naive},
    )
    assert made.status_code == 201, made.content
    assert Appointment.objects.get().starts_at == at(next_weekday(0), 9)


def test_huge_ids_and_unknown_ids_in_the_address_are_404(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    sam = people["sam"]
    for path in (
        f"appointments/{2**70}/",
        "appointments/999999/",
        f"patients/{2**40}/appointments/",
    ):
        assert sam.get(path).status_code == 404, path
    for path in ("appointments/999999/cancel/", "appointments/999999/move/"):
        response = sam.send(
            "post", path, {"reason": "x", "starts_at": at(next_weekday(0), 9).isoformat()}
        )
        assert response.status_code == 404, (path, response.content)
    assert sam.get("practitioners/999999/appointments/").status_code == 404


# --- who sees what ----------------------------------------------------------------------------


def test_a_secretary_never_receives_a_clinical_reason(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    sam, alice = people["sam"], people["alice"]
    made = alice.send(
        "post",
        f"patients/{world.paul.pk}/appointments/",
        booking(world, agenda, at(next_weekday(0), 9), reason=CLINICAL),
    )
    assert made.status_code == 201 and made.json()["reason"] == CLINICAL
    day = next_weekday(0).isoformat()
    answers = [
        sam.get(f"appointments/{made.json()['id']}/"),
        sam.get(f"patients/{world.paul.pk}/appointments/"),
        sam.get(f"practitioners/{world.alice.pk}/appointments/?start={day}"),
        sam.send("post", f"appointments/{made.json()['id']}/check-in/"),
        sam.get("waiting-room/"),
    ]
    for response in answers:
        assert response.status_code == 200, response.content
        assert CLINICAL.encode() not in response.content
        assert b'"reason_hidden":true' in response.content
    # Marked administrative by the practitioner, the desk reads it.
    plain = alice.send(
        "post",
        f"patients/{world.paul.pk}/appointments/",
        booking(
            world,
            agenda,
            at(next_weekday(1), 9),
            reason="certificat sport",
            reason_is_administrative=True,
        ),
    )
    assert sam.get(f"appointments/{plain.json()['id']}/").json()["reason"] == "certificat sport"


def test_a_practitioner_the_patient_excluded_does_not_see_their_appointments(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    made = (
        people["alice"]
        .send(
            "post",
            f"patients/{world.paul.pk}/appointments/",
            booking(world, agenda, at(next_weekday(0), 9), reason=CLINICAL),
        )
        .json()
    )
    tenancy.activate(world.practice_a.pk)
    Restriction.objects.create(
        practice=world.practice_a,
        patient_id=world.paul.pk,
        person=world.bob,
        source="formulaire",
        recorded_by=world.sam,
    )
    tenancy.activate(None)
    bob = people["bob"]
    assert bob.get(f"appointments/{made['id']}/").status_code == 403
    assert bob.get(f"patients/{world.paul.pk}/appointments/").status_code == 403
    day = next_weekday(0).isoformat()
    listed = bob.get(f"practitioners/{world.alice.pk}/appointments/?start={day}")
    assert listed.status_code == 200
    assert [row["hidden"] for row in listed.json()] == [True]
    assert b"Dupont" not in listed.content and CLINICAL.encode() not in listed.content
    refused = AuditEvent.objects.filter(
        action="access.denied", actor_id=world.bob.pk, patient_id=world.paul.pk
    )
    assert refused.count() == 2
    moved = bob.send(
        "post",
        f"appointments/{made['id']}/move/",
        {"starts_at": at(next_weekday(0), 15).isoformat()},
    )
    assert moved.status_code == 403


def test_another_practice_sees_nothing(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    made = book(people, world, agenda, at(next_weekday(0), 9))
    charlie = people["charlie"]
    assert charlie.get(f"appointments/{made['id']}/").status_code == 404
    assert charlie.get(f"patients/{world.paul.pk}/appointments/").status_code == 404
    assert charlie.get(f"practitioners/{world.alice.pk}/appointments/").status_code == 404
    assert charlie.get("types/").json() == [] and charlie.get("sites/").json() == []
    for action in ("cancel", "check-in", "no-show", "start", "finish"):
        response = charlie.send("post", f"appointments/{made['id']}/{action}/", {"reason": "x"})
        assert response.status_code == 404, (action, response.content)
    booked_there = charlie.send(
        "post",
        f"patients/{world.paul.pk}/appointments/",
        booking(world, agenda, at(next_weekday(0), 10), practitioner=world.charlie.pk),
    )
    assert booked_there.status_code == 404
    assert rows() == 1


def test_every_read_of_an_appointment_is_audited(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    made = book(people, world, agenda, at(next_weekday(0), 9))
    sam = people["sam"]
    day = next_weekday(0).isoformat()
    reads = [
        f"appointments/{made['id']}/",
        f"patients/{world.paul.pk}/appointments/",
        f"practitioners/{world.alice.pk}/appointments/?start={day}",
    ]
    for path in reads:
        before = AuditEvent.objects.filter(action="appointment.read", actor_id=world.sam.pk).count()
        assert sam.get(path).status_code == 200
        events = AuditEvent.objects.filter(action="appointment.read", actor_id=world.sam.pk)
        assert events.count() == before + 1, path
        assert events.order_by("-pk").first().patient_id == world.paul.pk


# --- queries ----------------------------------------------------------------------------------


def _queries(api: Api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def _fill(world: World, agenda: Agenda, count: int, day: Any) -> None:
    book_in_a_row(world, agenda, at(day, 8), count, 10, reason=CLINICAL, nir="")


def test_the_slots_and_the_day_list_run_a_fixed_number_of_queries(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    sam = people["sam"]
    small, large = next_weekday(0), next_weekday(1)
    _fill(world, agenda, 2, small)
    _fill(world, agenda, 30, large)
    counts = {}
    sam.get("types/")  # once-per-token work (the token's last use) out of the count
    for day in (small, large, small):
        after = at(day, 7).isoformat().replace("+", "%2B")
        slots = f"slots/?practitioner={world.alice.pk}&type={agenda.consultation.pk}&after={after}"
        listed = f"practitioners/{world.alice.pk}/appointments/?start={day.isoformat()}"
        counts[day] = (_queries(sam, slots), _queries(sam, listed))
    assert counts[small] == counts[large], counts
    assert len(sam.get(f"practitioners/{world.alice.pk}/appointments/?start={large}").json()) == 30


def _booking_queries(api: Api, path: str, body: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.send("post", path, body)
    assert response.status_code == 201, response.content
    return len(captured.captured_queries)


def test_booking_runs_a_fixed_number_of_queries_whatever_the_day_holds(
    world: World, agenda: Agenda, people: dict[str, Api]
) -> None:
    """The booking hot path: the token, the practice, the patient and the policy's facts
    read once, the practitioner, the type, the day's hours, the insert under its own
    savepoint, the row read back, the audit; not one query per appointment of the day."""
    sam = people["sam"]
    small, large = next_weekday(0), next_weekday(1)
    _fill(world, agenda, 2, small)
    _fill(world, agenda, 30, large)
    sam.get("types/")  # once-per-token work (the token's last use) out of the count
    path = f"patients/{world.paul.pk}/appointments/"
    counts = [
        _booking_queries(sam, path, booking(world, agenda, at(day, 17), override_hours=True))
        for day in (small, large)
    ]
    # Counted with the request's transaction; the token, practice and roles are one
    # round trip, and the audit append one call (they were three and two); the patient
    # and the policy's facts one (they were two).
    assert counts == [14, 14], counts
    booked = sam.get(f"patients/{world.paul.pk}/appointments/").json()
    assert {row["starts_at"][:10] for row in booked} >= {small.isoformat(), large.isoformat()}
