"""In a real browser, with the keyboard only: the GP logs in and lands on today's page,
whose first focus is "Recevoir" for the patient waiting longest; Enter calls the patient
in and opens the consultation, which once written closes the appointment and is linked
to it. axe-core finds no critical or serious violation on the today page nor on a
settings page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from tests.conftest import superuser_conninfo
from tests.e2e.axe import serious_violations
from tests.e2e.totp import fresh_code
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"
GP = "karim.benali"


def database(live: LiveCarnet) -> str:
    return superuser_conninfo(f"{settings.DATABASES['default']['NAME']}_e2e")


def waiting_patient(live: LiveCarnet) -> dict[str, Any]:
    """A patient of the demo practice in the GP's waiting room since this morning (the
    longest waiting, so the next one), as the desk checks in a walk-in for him; written
    as the database owner with the demo's site and type of appointment."""
    slug = live.credentials["practice"]["slug"]
    # One minute past midnight of the practice's day (its zone, not the database
    # session's: in UTC, between 00:00 and 01:00 in Paris that was yesterday).
    zone = settings.TIME_ZONE
    with psycopg.connect(database(live)) as connection:
        practice_id, gp_id = connection.execute(
            "SELECT p.id, m.person_id FROM practices_practice p"
            " JOIN accounts_membership m ON m.practice_id = p.id"
            " JOIN accounts_person u ON u.id = m.person_id"
            " WHERE p.slug = %s AND u.username = %s AND m.role = 'practitioner'",
            [slug, GP],
        ).fetchone()
        (patient_id,) = connection.execute(
            "SELECT id FROM records_patient WHERE practice_id = %s AND deceased_on IS NULL"
            " ORDER BY id DESC LIMIT 1",
            [practice_id],
        ).fetchone()
        (type_id,) = connection.execute(
            "SELECT id FROM agenda_appointmenttype WHERE practice_id = %s AND is_active"
            " ORDER BY id LIMIT 1",
            [practice_id],
        ).fetchone()
        (appointment_id,) = connection.execute(
            "INSERT INTO agenda_appointment (practice_id, practitioner_id, patient_id,"
            " caller_name, caller_phone, type_id, status, channel, reason,"
            " reason_is_administrative, outside_hours, arrived_at, cancel_reason,"
            " created_by_id, created_at, updated_at, version)"
            " VALUES (%s, %s, %s, '', '', %s, 'arrived', 'walk_in', 'toux', false, false,"
            " (date_trunc('day', now() AT TIME ZONE %s) + interval '1 minute') AT TIME ZONE %s,"
            " '', %s, now(), now(), 1)"
            " RETURNING id",
            [practice_id, gp_id, patient_id, type_id, zone, zone, gp_id],
        ).fetchone()
    return {"gp_id": gp_id, "patient_id": patient_id, "appointment_id": appointment_id}


def appointment_state(live: LiveCarnet, appointment_id: int) -> tuple[str, int | None]:
    with psycopg.connect(database(live)) as connection:
        row = connection.execute(
            "SELECT status, encounter_id FROM agenda_appointment WHERE id = %s",
            [appointment_id],
        ).fetchone()
    return row[0], row[1]


def log_in_with_the_keyboard(page: Any, live: LiveCarnet, username: str) -> None:
    account = live.account(username)
    page.goto(f"{live.url}/connexion/")
    page.get_by_label("Identifiant").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(account["password"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#id_code").focus()
    page.keyboard.type(fresh_code(account["totp_secret"]))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/connexion/" not in url, timeout=30_000)


def test_the_gp_receives_the_next_patient_with_the_keyboard(
    page: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    made = waiting_patient(live)

    log_in_with_the_keyboard(page, live, GP)
    page.wait_for_url(f"**/p/{slug}/")
    # The home is the GP's day: the focus waits on "Recevoir" for the patient waiting.
    assert page.get_by_test_id("waiting-room").is_visible()
    focused = page.evaluate("document.activeElement.dataset.testid || ''")
    assert focused == "receive-next"
    name = page.get_by_test_id("receive-next").inner_text().removeprefix("Recevoir").strip()
    assert "Alt+R" in page.get_by_test_id("keys").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "agenda-today.png"), full_page=True)
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False)

    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"/patients/{made['patient_id']}/consultation/" in page.url
    assert f"origin=appointment:{made['appointment_id']}" in page.url
    assert appointment_state(live, made["appointment_id"]) == ("in_consultation", None)

    page.get_by_label("Motif de la consultation").focus()
    page.keyboard.type("Toux depuis une semaine")
    page.keyboard.press("Tab")
    page.keyboard.type("Toux sèche, sans fièvre")
    page.screenshot(path=str(SCREENSHOTS / "agenda-consultation-from-appointment.png"))
    page.get_by_role("button", name="Enregistrer", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(f"**/patients/{made['patient_id']}/")
    status, encounter = appointment_state(live, made["appointment_id"])
    assert status == "done" and encounter is not None

    # Back on today's page, the patient no longer waits.
    page.goto(f"{live.url}/p/{slug}/aujourdhui/")
    assert name and name not in page.get_by_test_id("waiting-room").inner_text()


def test_a_settings_page_has_no_serious_accessibility_violation(
    page: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    log_in_with_the_keyboard(page, live, "sophie.durand")
    with psycopg.connect(database(live)) as connection:
        (gp_id,) = connection.execute(
            "SELECT id FROM accounts_person WHERE username = %s", [GP]
        ).fetchone()
    page.goto(f"{live.url}/p/{slug}/agenda/reglages/horaires/{gp_id}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Heures d'ouverture")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "agenda-settings-week.png"), full_page=True)
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False)
    page.goto(f"{live.url}/p/{slug}/agenda/reglages/absences/")
    assert serious_violations(page) == []
