"""In a real browser, with the keyboard only: the practice admin invites a secretary and a
GP, both set up their account from the invitation (password and authenticator) and work;
the admin deactivates the GP, whose open session and API token are refused at once; a
second-factor reset makes the secretary enroll again; an unlock lets her back in. All of
it is in the audit trail."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.conftest import superuser_conninfo
from tests.e2e.totp import fresh_code
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"
NEW_PASSWORD = "une phrase de passe solide"


def type_into(page, selector: str, text: str) -> None:
    page.locator(selector).focus()
    page.keyboard.type(text)


def press_button(page, name: str) -> None:
    """Submit a form from its button with the keyboard, and wait for the answer."""
    page.get_by_role("button", name=name).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def log_in(page, live: LiveCarnet, username: str, password: str, secret: str) -> None:
    page.goto(f"{live.url}/connexion/")
    type_into(page, "#id_username", username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    try:
        page.wait_for_url("**/connexion/code/")
        type_into(page, "#id_code", fresh_code(secret))
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/connexion/" not in url, timeout=30_000)
    except Exception as error:
        alerts = page.get_by_role("alert")
        reason = alerts.first.inner_text() if alerts.count() else "(no alert on the page)"
        shot(page, f"login-failed-{username}")
        typed = (
            page.locator("#id_username").input_value()
            if page.locator("#id_username").count()
            else "?"
        )
        raise AssertionError(f"{username} was not logged in: {reason} (typed {typed!r})") from error


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def invite(page, live: LiveCarnet, slug: str, name: str, username: str, role: str, **gp: str):
    page.goto(f"{live.url}/p/{slug}/equipe/inviter/")
    type_into(page, "#id_full_name", name)
    type_into(page, "#id_username", username)
    page.get_by_label(role, exact=True).focus()
    page.keyboard.press("Space")
    if gp:
        page.locator("#id_profession").focus()
        page.keyboard.press("ArrowDown")  # the first profession: general practitioner
        type_into(page, "#id_rpps", gp["rpps"])
    press_button(page, "Créer l'invitation")
    page.wait_for_url("**/equipe/invitations/**")
    return page.get_by_test_id("invitation-link").inner_text().strip()


def enroll_from(page, link: str) -> str:
    """Open the invitation, choose the password, scan (read) the key, enter its code."""
    page.goto(link)
    secret = page.get_by_test_id("totp-secret").inner_text()
    type_into(page, "#id_password", NEW_PASSWORD)
    type_into(page, "#id_password_again", NEW_PASSWORD)
    type_into(page, "#id_code", fresh_code(secret))
    press_button(page, "Activer mon compte")
    page.wait_for_url("**/connexion/")
    assert "Votre compte est prêt" in page.content()
    return secret


def api_status(live: LiveCarnet, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - the test's own server on loopback
        f"{live.url}/api/v1/patients/?q=a", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def audit_actions(live: LiveCarnet) -> list[str]:
    database = f"{settings.DATABASES['default']['NAME']}_e2e"
    with psycopg.connect(superuser_conninfo(database)) as connection:
        rows = connection.execute("SELECT action FROM audit_event ORDER BY id").fetchall()
    return [row[0] for row in rows]


def test_an_admin_runs_the_team_from_invitation_to_deactivation(browser, live_carnet) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    admin = live.account("claire.martin")
    pages = {}
    for who in ("admin", "secretary", "gp"):
        pages[who] = browser.new_context(locale="fr-FR", accept_downloads=True).new_page()
    admin_page, secretary_page, gp_page = pages["admin"], pages["secretary"], pages["gp"]
    try:
        log_in(admin_page, live, "claire.martin", admin["password"], admin["totp_secret"])
        secretary_link = invite(
            admin_page, live, slug, "Inès Secrétaire", "ines.secretaire", "Secrétaire"
        )
        shot(admin_page, "staff-invitation-sheet")
        gp_link = invite(
            admin_page,
            live,
            slug,
            "Dr Hugo Henry",
            "hugo.henry",
            "Praticien",
            rpps="10003456786",
        )
        admin_page.goto(f"{live.url}/p/{slug}/equipe/")
        shot(admin_page, "staff-list")
        assert admin_page.get_by_test_id("staff").inner_text().count("pas encore activé") == 2

        # Both set up their account from the link, then log in and work.
        secretary_secret = enroll_from(secretary_page, secretary_link)
        shot(secretary_page, "invitation-done")
        log_in(secretary_page, live, "ines.secretaire", NEW_PASSWORD, secretary_secret)
        secretary_page.goto(f"{live.url}/p/{slug}/patients/?q=a")
        assert secretary_page.locator("#patient-rows a").count() > 0
        gp_secret = enroll_from(gp_page, gp_link)
        log_in(gp_page, live, "hugo.henry", NEW_PASSWORD, gp_secret)
        gp_page.goto(f"{live.url}/p/{slug}/jetons/")
        type_into(gp_page, "#id_name", "logiciel du poste")
        press_button(gp_page, "Créer un jeton")
        token = gp_page.get_by_test_id("new-token").inner_text().strip()
        assert api_status(live, token) == 200

        # The admin deactivates the GP: his open page and his token are refused at once.
        admin_page.goto(f"{live.url}/p/{slug}/equipe/")
        admin_page.get_by_role("link", name="Dr Hugo Henry").focus()
        admin_page.keyboard.press("Enter")
        admin_page.wait_for_url("**/equipe/*/")
        type_into(admin_page, "#id_reason", "fin de remplacement")
        press_button(admin_page, "Désactiver cette personne")
        assert "désactivé" in admin_page.get_by_test_id("member-status").inner_text()
        gp_page.goto(f"{live.url}/p/{slug}/patients/")
        assert "/connexion/" in gp_page.url
        assert api_status(live, token) == 401

        # A lost phone: the admin resets the secretary's second factor with her own code.
        admin_page.goto(f"{live.url}/p/{slug}/equipe/")
        admin_page.get_by_role("link", name="Inès Secrétaire").focus()
        admin_page.keyboard.press("Enter")
        admin_page.wait_for_url("**/equipe/*/")
        member_url = admin_page.url
        type_into(admin_page, "#id_admin_code", fresh_code(admin["totp_secret"]))
        press_button(admin_page, "Réinitialiser le second facteur")
        shot(admin_page, "staff-member")
        assert "second facteur a été supprimé" in admin_page.content()
        secretary_page.context.clear_cookies()
        secretary_page.goto(f"{live.url}/connexion/")
        type_into(secretary_page, "#id_username", "ines.secretaire")
        type_into(secretary_page, "#id_password", NEW_PASSWORD)
        secretary_page.keyboard.press("Enter")
        secretary_page.wait_for_url("**/connexion/code/")
        new_secret = secretary_page.get_by_test_id("totp-secret").inner_text()
        assert new_secret.replace(" ", "") != secretary_secret.replace(" ", "")
        type_into(secretary_page, "#id_code", fresh_code(new_secret))
        secretary_page.keyboard.press("Enter")
        secretary_page.wait_for_url(lambda url: "/connexion/" not in url)

        # Locked out by wrong passwords from her workstation; the admin unlocks her.
        secretary_page.context.clear_cookies()
        for _ in range(5):
            secretary_page.goto(f"{live.url}/connexion/")
            type_into(secretary_page, "#id_username", "ines.secretaire")
            type_into(secretary_page, "#id_password", "pas le bon mot de passe")
            with secretary_page.expect_navigation():
                secretary_page.keyboard.press("Enter")
        assert "Trop de tentatives" in secretary_page.get_by_role("alert").inner_text()
        admin_page.goto(member_url)
        press_button(admin_page, "Déverrouiller")
        assert "déverrouillé" in admin_page.content()
        log_in(secretary_page, live, "ines.secretaire", NEW_PASSWORD, new_secret)
        assert re.search(rf"/p/{slug}/$", secretary_page.url)
    finally:
        for page in pages.values():
            page.context.close()

    actions = audit_actions(live)
    for action in (
        "staff.invite",
        "staff.invitation_accepted",
        "second_factor.enrolled",
        "api_token.create",
        "staff.deactivate",
        "staff.second_factor_reset",
        "account.locked",
        "staff.unlock",
    ):
        assert action in actions, (action, json.dumps(actions[-40:]))
    assert actions.count("staff.invite") >= 2
