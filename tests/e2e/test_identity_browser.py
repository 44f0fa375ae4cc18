"""In a real browser, with the keyboard: the secretary registers a paper-only patient
(NIR typed with spaces as on the carte Vitale, GP of record chosen); the GP opens the
chart without emergency access and writes a consultation; the secretary corrects the
address with a reason; the GP sees the change and the old address in the history."""

from __future__ import annotations

import re
from datetime import date

import pytest

from records import nir
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

BORN = date(1958, 11, 23)
NIR = nir.make("2", BORN, "69381", 417)
SPACED = f"{NIR[0]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}"


def log_in_once(page, live: LiveCarnet, username: str) -> None:
    """Log in (each login takes a code not used yet: tests.e2e.totp)."""
    log_in(page, live, username)


def type_into(page, label: str, text: str, *, exact: bool = False) -> None:
    page.get_by_label(label, exact=exact).focus()
    page.keyboard.type(text)


def test_a_paper_only_patient_from_the_desk_to_the_gp_and_an_address_corrected(
    browser, live_carnet: LiveCarnet
) -> None:
    slug = live_carnet.credentials["practice"]["slug"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desk = browser.new_context(locale="fr-FR").new_page()
    gp = browser.new_context(locale="fr-FR").new_page()
    try:
        # --- Sophie (secretary) registers Odette Marchand, who has no phone nor e-mail.
        log_in_once(desk, live_carnet, "sophie.durand")
        desk.goto(f"{live_carnet.url}/p/{slug}/patients/nouveau/")
        type_into(desk, "Nom de naissance", "Marchand")
        type_into(desk, "Prénoms", "Odette")
        desk.get_by_label("Sexe").focus()
        desk.get_by_label("Sexe").select_option("F")  # a <select>: chosen like the keyboard
        # A date field's segments follow the browser's locale: filled as a date.
        desk.get_by_label("Date de naissance").fill(BORN.isoformat())
        type_into(desk, "NIR", SPACED)
        type_into(desk, "Adresse", "4 rue Paul Verlaine")
        type_into(desk, "Code postal", "69100")
        type_into(desk, "Ville", "Villeurbanne")
        desk.get_by_label("Papier uniquement", exact=False).focus()
        desk.keyboard.press("Space")
        assert desk.get_by_label("Papier uniquement", exact=False).is_checked()
        desk.get_by_label("Médecin traitant").focus()
        desk.get_by_label("Médecin traitant").select_option(label="Dr Karim Benali")
        desk.screenshot(path=str(SCREENSHOTS / "identity-registration.png"), full_page=True)
        desk.get_by_label("Ville").focus()
        desk.keyboard.press("Enter")
        desk.wait_for_url(re.compile(r".*/patients/\d+/$"))
        chart_url = desk.url
        assert desk.get_by_role("heading", level=1).inner_text() == "MARCHAND Odette"
        banner = desk.get_by_role("region", name="Identité", exact=True).inner_text()
        assert f"NIR {NIR}" in banner
        assert "Papier uniquement" in banner
        assert "Dr Karim Benali" in banner

        # --- Karim (her GP) opens her chart: no emergency access needed, he writes.
        log_in_once(gp, live_carnet, "karim.benali")
        gp.goto(chart_url)
        assert gp.get_by_test_id("clinical-refused").count() == 0
        gp.get_by_role("link", name="Nouvelle consultation").click()
        type_into(gp, "Motif de la consultation", "Renouvellement")
        type_into(gp, "Subjectif", "Vient à pied, pas de téléphone")
        gp.keyboard.press("Tab")
        gp.get_by_role("button", name="Enregistrer").click()
        gp.wait_for_url(chart_url)
        assert "Renouvellement" in gp.locator(".encounter").first.inner_text()

        # --- Sophie corrects the address: she moved; the reason is required.
        desk.goto(chart_url)
        desk.get_by_role("link", name="Corriger l'identité").click()
        desk.wait_for_url("**/identite/")
        address = desk.get_by_label("Adresse")
        address.focus()
        desk.keyboard.press("Control+A")
        desk.keyboard.type("12 avenue Henri Barbusse")
        desk.get_by_label("Motif de la correction").focus()
        desk.keyboard.press("Enter")  # no reason yet: refused, nothing saved
        assert "Ce champ est obligatoire" in desk.get_by_role("alert").first.inner_text()
        type_into(desk, "Motif de la correction", "Déménagement signalé à l'accueil")
        desk.screenshot(path=str(SCREENSHOTS / "identity-correct.png"), full_page=True)
        desk.keyboard.press("Enter")
        desk.wait_for_url(chart_url)

        # --- Karim sees the new address, and the old one in the history.
        gp.goto(chart_url)
        assert (
            "12 avenue Henri Barbusse"
            in gp.get_by_role("region", name="Identité", exact=True).inner_text()
        )
        history = gp.get_by_test_id("identity-history").inner_text()
        assert "4 rue Paul Verlaine" in history
        assert "12 avenue Henri Barbusse" in history
        assert "Sophie Durand" in history
        assert "Déménagement signalé à l'accueil" in history
        gp.get_by_test_id("identity-section").scroll_into_view_if_needed()
        gp.screenshot(path=str(SCREENSHOTS / "identity-chart.png"), full_page=True)

        # The other identity pages, as they look (nothing submitted).
        gp.get_by_role("link", name="Changer de médecin traitant").click()
        assert gp.locator("#id_gp").input_value() != "none"
        gp.screenshot(path=str(SCREENSHOTS / "identity-gp.png"), full_page=True)
        gp.goto(chart_url)
        gp.get_by_role("link", name="Enregistrer un décès").click()
        assert gp.get_by_label("Je confirme le décès de ce patient").is_checked() is False
        gp.screenshot(path=str(SCREENSHOTS / "identity-death.png"), full_page=True)
        gp.goto(chart_url)
        gp.get_by_role("link", name="Fusionner un doublon").click()
        type_into(gp, "Nom, date de naissance (JJ/MM/AAAA) ou NIR", "martin")
        gp.keyboard.press("Enter")
        gp.get_by_test_id("merge-found").get_by_role("link").first.click()
        preview = gp.get_by_test_id("merge-preview").inner_text()
        assert "MARCHAND Odette" in preview and "Consultations" in preview
        gp.screenshot(path=str(SCREENSHOTS / "identity-merge.png"), full_page=True)
    finally:
        desk.context.close()
        gp.context.close()
