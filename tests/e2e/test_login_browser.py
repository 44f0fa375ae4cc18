"""In a real browser: log in with the second factor, see the practice home, find a
patient, open the identity sheet; and the second factor cannot be skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnet.management.commands.totp import current_code
from tests.e2e.totp import fresh_code
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"


def log_in(page, live: LiveCarnet, username: str) -> None:
    account = live.account(username)
    page.goto(f"{live.url}/connexion/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(account["password"])
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/connexion/code/")
    page.locator("#id_code").fill(fresh_code(account["totp_secret"]))
    page.get_by_role("button", name="Se connecter").click()
    # Wait until the code page is left, and say why if it is not: a refused code
    # shows its reason in an alert.
    try:
        page.wait_for_url(lambda url: "/connexion/code/" not in url, timeout=30_000)
    except Exception as error:
        alerts = page.get_by_role("alert")
        reason = alerts.first.inner_text() if alerts.count() else "(no alert on the page)"
        raise AssertionError(f"{username} was not logged in: {reason}") from error


def test_a_practitioner_logs_in_with_the_second_factor_and_sees_the_home_page(
    page, live_carnet
) -> None:
    log_in(page, live_carnet, "claire.martin")
    page.wait_for_url(f"**/p/{live_carnet.credentials['practice']['slug']}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Maison de santé des Tilleuls"
    roles = page.get_by_test_id("roles").inner_text()
    assert "Praticien" in roles and "Administrateur du cabinet" in roles
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "practice-home.png"), full_page=True)

    # Keyboard-driven search from the home page, then the identity sheet.
    page.get_by_label("Nom, date de naissance (JJ/MM/AAAA) ou NIR").fill("a")
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients/?q=a")
    first = page.locator("#patient-rows a").first
    name = first.inner_text()
    first.click()
    assert page.get_by_role("heading", level=1).inner_text() == name


def test_the_password_alone_does_not_open_the_practice(page, live_carnet) -> None:
    account = live_carnet.account("sophie.durand")
    page.goto(f"{live_carnet.url}/connexion/")
    page.get_by_label("Identifiant").fill("sophie.durand")
    page.get_by_label("Mot de passe").fill(account["password"])
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/connexion/code/")
    page.goto(f"{live_carnet.url}/p/{live_carnet.credentials['practice']['slug']}/")
    assert "/connexion/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Se connecter à Carnet"


def test_a_wrong_code_shows_a_clear_error(page, live_carnet) -> None:
    # Lucie logs in nowhere else in these tests: a wrong code holds back the account's
    # next attempt for a moment (the TOTP device's throttle), which would refuse another
    # test's right code entered within that moment.
    account = live_carnet.account("lucie.garnier")
    page.goto(f"{live_carnet.url}/connexion/")
    page.get_by_label("Identifiant").fill("lucie.garnier")
    page.get_by_label("Mot de passe").fill(account["password"])
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/connexion/code/")
    right = current_code(account["totp_secret"])
    page.locator("#id_code").fill("000000" if right != "000000" else "111111")
    page.get_by_role("button", name="Se connecter").click()
    assert "Code incorrect" in page.get_by_role("alert").inner_text()
