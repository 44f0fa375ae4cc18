"""In a real browser, with the keyboard: the secretary registers a paper-only patient (no
phone, no e-mail), books her phone appointment with her GP today from the free times and
prints the appointment card (a real PDF, read back); when she comes, the secretary checks
her in and a walk-in joins the queue; the GP sees both in his waiting room, calls each
in, writes the consultation, and each appointment is done and linked to its
consultation. axe-core finds no critical or serious violation on the agenda, booking and
waiting-room pages."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta
from typing import Any

import psycopg
import pytest
from django.conf import settings
from pypdf import PdfReader

from agenda.printing import day_in_words
from agenda.selectors.slots import local_zone
from tests.conftest import superuser_conninfo
from tests.e2e.axe import serious_violations
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

GP = "Dr Karim Benali"
SITE_ADDRESS = "12 place des Tilleuls"
SITE_PHONE = "04 72 10 20 30"


def database() -> str:
    return f"{settings.DATABASES['default']['NAME']}_e2e"


def sql(statement: str, values: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """As the superuser on the live server's database (row-level security does not apply)."""
    with psycopg.connect(superuser_conninfo(database())) as connection:
        cursor = connection.execute(statement, values)
        return cursor.fetchall() if cursor.description else []


def seed_agenda(slug: str) -> tuple[int, int]:
    """The practice's site and consultation type, and the GP open all of today: the
    appointment is booked today, inside his hours, at any time the test runs."""
    ((practice_id,),) = sql("SELECT id FROM practices_practice WHERE slug = %s", (slug,))
    ((karim,),) = sql("SELECT id FROM accounts_person WHERE username = 'karim.benali'")
    existing = sql("SELECT id FROM agenda_site WHERE practice_id = %s", (practice_id,))
    if existing:  # the demo's site: given the address the card is checked against
        site = existing[0][0]
        sql(
            "UPDATE agenda_site SET address = %s, postal_code = '69007', city = 'Lyon',"
            " phone = %s WHERE id = %s",
            (SITE_ADDRESS, SITE_PHONE, site),
        )
    else:
        ((site,),) = sql(
            "INSERT INTO agenda_site (practice_id, name, address, postal_code, city, phone,"
            " is_active) VALUES (%s, 'Cabinet des Tilleuls', %s, '69007', 'Lyon', %s, true)"
            " RETURNING id",
            (practice_id, SITE_ADDRESS, SITE_PHONE),
        )
        sql(
            "INSERT INTO agenda_appointmenttype (practice_id, name, minutes, is_home_visit,"
            " is_active) VALUES (%s, 'Consultation', 20, false, true)",
            (practice_id,),
        )
    # The demo's waiting room is emptied: the test follows its own two patients in it.
    sql(
        "UPDATE agenda_appointment SET status = 'cancelled', cancel_reason = 'test'"
        " WHERE practice_id = %s AND status IN ('arrived', 'in_consultation')",
        (practice_id,),
    )
    today = datetime.now(tz=local_zone()).date()
    sql(
        "INSERT INTO agenda_dayhours (practice_id, practitioner_id, site_id, day, starts, ends)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (practice_id, karim, site, today, time(0, 0), time(23, 59)),
    )
    return practice_id, karim


def keyboard_fill(page: Any, label: str, text: str) -> None:
    page.get_by_label(label).focus()
    page.keyboard.type(text)


def press(page: Any, locator: Any) -> None:
    """Reach a button or link and press Enter, as with the Tab key."""
    locator.focus()
    page.keyboard.press("Enter")


def assert_accessible(page: Any, name: str) -> None:
    problems = serious_violations(page)
    assert not problems, f"axe-core on the {name} page:\n" + "\n".join(problems)


def pdf_text(content: bytes) -> str:
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def register_paper_only(desk: Any, live: LiveCarnet, slug: str) -> None:
    desk.goto(f"{live.url}/p/{slug}/patients/nouveau/")
    keyboard_fill(desk, "Nom de naissance", "Fauvel")
    keyboard_fill(desk, "Prénoms", "Ginette")
    desk.get_by_label("Sexe").focus()
    desk.get_by_label("Sexe").select_option("F")
    desk.get_by_label("Date de naissance").fill("1941-03-08")
    desk.get_by_label("Papier uniquement", exact=False).focus()
    desk.keyboard.press("Space")
    desk.get_by_label("Médecin traitant").focus()
    desk.get_by_label("Médecin traitant").select_option(label=GP)
    desk.get_by_label("Ville").focus()
    desk.keyboard.press("Enter")
    desk.wait_for_url(re.compile(r".*/patients/\d+/$"))


def book_today(desk: Any) -> None:
    """The first free time, today (the GP is open until 23:59); in the last half hour of
    the day no 20 minutes are left, so the desk books the time now on purpose, outside
    the hours."""
    now = datetime.now(tz=local_zone())
    slots = desk.get_by_test_id("free-slots").get_by_role("button")
    if now.time() < time(23, 30):
        first = slots.first
        assert day_in_words(now.date()).split()[1] in first.inner_text()  # today's date
        press(desk, first)
        return
    start = max(now - timedelta(minutes=5), now.replace(hour=0, minute=0))
    desk.get_by_label("Date", exact=True).fill(start.date().isoformat())
    desk.get_by_label("Heure", exact=True).fill(start.strftime("%H:%M"))
    desk.get_by_label("Réserver en dehors des horaires", exact=False).focus()
    desk.keyboard.press("Space")
    press(desk, desk.get_by_role("button", name="Réserver à cet horaire"))


def test_a_phone_appointment_from_the_desk_to_the_consultation_and_a_walk_in(
    browser: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    base = f"{live.url}/p/{slug}"
    practice_id, karim = seed_agenda(slug)
    ((walk_in_id, walk_in_name),) = sql(
        "SELECT id, birth_name FROM records_patient WHERE practice_id = %s"
        " AND deceased_on IS NULL AND used_name = '' AND birth_name <> 'Fauvel'"
        " ORDER BY id LIMIT 1",
        (practice_id,),
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk = browser.new_context(locale="fr-FR").new_page()
    gp = browser.new_context(locale="fr-FR").new_page()
    try:
        # --- Sophie (secretary) registers Ginette Fauvel, who has neither phone nor e-mail.
        log_in(desk, live, "sophie.durand")
        register_paper_only(desk, live, slug)

        # --- Ginette phones: Sophie finds her and books the first free time with her GP.
        desk.goto(f"{base}/agenda/prendre-rdv/")
        keyboard_fill(desk, "Nom, date de naissance (JJ/MM/AAAA) ou NIR", "fauvel")
        desk.keyboard.press("Enter")
        desk.wait_for_url("**/prendre-rdv/?q=fauvel")
        press(desk, desk.get_by_test_id("booking-found").get_by_role("link").first)
        desk.wait_for_url(re.compile(r".*/prendre-rdv/\?patient=\d+$"))
        assert "FAUVEL Ginette" in desk.get_by_test_id("booking-patient").inner_text()
        assert desk.get_by_label("Praticien").input_value() == str(karim)  # her GP first
        assert desk.get_by_label("Par téléphone").is_checked()
        assert_accessible(desk, "booking")
        desk.screenshot(path=str(SCREENSHOTS / "agenda-booking.png"), full_page=True)
        book_today(desk)
        desk.wait_for_url(re.compile(r".*/rdv/\d+/$"))
        appointment_id = int(desk.url.rstrip("/").rsplit("/", 1)[1])
        assert "Rendez-vous pris" in desk.get_by_role("status").inner_text()
        details = desk.get_by_test_id("appointment").inner_text()
        assert "FAUVEL Ginette" in details and GP in details

        # --- The appointment card: a real PDF, downloaded and read.
        card = desk.get_by_role("link", name="Imprimer le carton de rendez-vous")
        response = desk.context.request.get(live.url + card.get_attribute("href"))
        assert response.headers["content-type"] == "application/pdf"
        text = pdf_text(response.body())
        ((starts_at,),) = sql(
            "SELECT starts_at FROM agenda_appointment WHERE id = %s", (appointment_id,)
        )
        local = starts_at.astimezone(local_zone())
        assert day_in_words(local.date()) in text
        assert f"{local.hour} h {local.minute:02d}" in text
        assert GP in text and SITE_ADDRESS in text and "69007 Lyon" in text
        assert f"pour annuler, appelez le {SITE_PHONE}" in text
        (SCREENSHOTS / "agenda-card.pdf").write_bytes(response.body())

        # --- She arrives: checked in from the waiting room; a walk-in joins the queue.
        desk.goto(f"{base}/salle-d-attente/")
        with desk.expect_navigation():  # back to the same page, after the POST
            press(desk, desk.get_by_role("button", name="Arrivé : FAUVEL Ginette"))
        assert "Le patient est en salle d'attente." in desk.get_by_role("status").inner_text()
        assert "FAUVEL Ginette" in desk.get_by_test_id("waiting").inner_text()
        keyboard_fill(desk, "Nom, date de naissance (JJ/MM/AAAA) ou NIR", walk_in_name)
        desk.keyboard.press("Enter")
        desk.wait_for_url(re.compile(r".*/salle-d-attente/\?q=.*"))
        radio = desk.locator(f'input[name="patient"][value="{walk_in_id}"]')
        radio.focus()
        desk.keyboard.press("Space")
        assert radio.is_checked()
        practitioner = desk.locator("#id_practitioner")
        practitioner.focus()
        practitioner.select_option(label="Le premier disponible")
        with desk.expect_navigation():
            press(desk, desk.get_by_role("button", name="Ajouter à la file d'attente"))
        assert "Le patient rejoint la file d'attente." in desk.get_by_role("status").inner_text()
        queue = desk.get_by_test_id("waiting").inner_text()
        assert queue.index("FAUVEL Ginette") < queue.index(walk_in_name.upper())
        assert_accessible(desk, "waiting room")
        desk.screenshot(path=str(SCREENSHOTS / "agenda-waiting-room.png"), full_page=True)

        # --- Karim, her GP: his waiting room, longest waiting first; he calls her in.
        log_in(gp, live, "karim.benali")
        gp.goto(f"{base}/agenda/?jour={datetime.now(tz=local_zone()).date().isoformat()}")
        assert "FAUVEL Ginette" in gp.get_by_test_id("agenda-day").inner_text()
        assert_accessible(gp, "agenda")
        gp.screenshot(path=str(SCREENSHOTS / "agenda-day.png"), full_page=True)
        gp.goto(f"{base}/salle-d-attente/")
        rows = gp.get_by_test_id("waiting").locator("tbody tr")
        assert "FAUVEL Ginette" in rows.nth(0).inner_text()
        assert walk_in_name.upper() in rows.nth(1).inner_text()
        press(gp, gp.get_by_role("button", name="Recevoir FAUVEL Ginette"))
        gp.wait_for_url(f"**/consultation/?origin=appointment:{appointment_id}")
        keyboard_fill(gp, "Motif de la consultation", "Renouvellement")
        press(gp, gp.get_by_role("button", name="Enregistrer"))
        gp.wait_for_url(re.compile(r".*/patients/\d+/$"))
        ((status, encounter),) = sql(
            "SELECT status, encounter_id FROM agenda_appointment WHERE id = %s", (appointment_id,)
        )
        assert status == "done" and encounter is not None
        ((reason,),) = sql("SELECT reason FROM records_encounter WHERE id = %s", (encounter,))
        assert reason == "Renouvellement"

        # --- Then the walk-in: seen too, and the waiting room is empty.
        gp.goto(f"{base}/salle-d-attente/")
        walk_in_button = gp.get_by_test_id("waiting").get_by_role("button")
        assert walk_in_button.count() == 1
        press(gp, walk_in_button)
        gp.wait_for_url(re.compile(r".*/consultation/\?origin=appointment:\d+$"))
        walk_in_appointment = int(gp.url.rsplit(":", 1)[1])
        keyboard_fill(gp, "Motif de la consultation", "Sans rendez-vous")
        press(gp, gp.get_by_role("button", name="Enregistrer"))
        gp.wait_for_url(re.compile(r".*/patients/\d+/$"))
        ((status, encounter, channel),) = sql(
            "SELECT status, encounter_id, channel FROM agenda_appointment WHERE id = %s",
            (walk_in_appointment,),
        )
        assert (status, channel) == ("done", "walk_in") and encounter is not None
        gp.goto(f"{base}/salle-d-attente/")
        assert "Personne n'attend." in gp.get_by_test_id("waiting").inner_text()
    finally:
        desk.context.close()
        gp.context.close()
