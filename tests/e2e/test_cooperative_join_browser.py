"""In a real browser, with the keyboard only: a practice applies to join the cooperative
from the node's public page; the cooperative's administrator approves it and prints the
first administrator's invitation; the practice's administrator sets up their account
from it and sees the membership page with their shares and first dues; a payment the
cooperative records makes the dues paid. No critical or serious accessibility problem
on the way (axe-core)."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.conf import settings

from tests.e2e.axe import serious_violations
from tests.e2e.test_staff_browser import (
    enroll_from,
    log_in,
    press_button,
    shot,
    type_into,
)
from tests.live_server import CARNET, LiveCarnet, carnet_env

pytestmark = pytest.mark.browser

NAME = "Maison de santé du Vercors"


def carnet_command(live: LiveCarnet, *args: str) -> str:
    """A `carnet` command on the live node's database, as its operator would run it."""
    db = settings.DATABASES["default"]
    where = f"{db['NAME']}_e2e?host={db['HOST']}&port={db['PORT']}"
    done = subprocess.run(
        [CARNET, *args], env=carnet_env(where, live.var_dir), check=True, capture_output=True
    )
    return done.stdout.decode()


def apply(page, live: LiveCarnet) -> None:
    page.goto(f"{live.url}/adherer/")
    assert serious_violations(page) == []
    type_into(page, "#id_practice_name", NAME)
    type_into(page, "#id_address", "12 avenue des Alpes")
    type_into(page, "#id_postal_code", "38250")
    type_into(page, "#id_city", "Villard-de-Lans")
    type_into(page, "#id_practitioner_0_name", "Dr Noémie Faure")
    page.locator("#id_practitioner_0_profession").focus()
    page.keyboard.press("ArrowDown")  # general practitioner
    type_into(page, "#id_practitioner_1_name", "Paul Giraud")
    page.locator("#id_practitioner_1_profession").focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # nurse
    page.locator("#id_shares").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    type_into(page, "#id_contact_name", "Dr Noémie Faure")
    type_into(page, "#id_contact_email", "contact@msp-vercors.example")
    type_into(page, "#id_contact_phone", "04 76 95 00 00")
    page.locator("#id_statutes_accepted").focus()
    page.keyboard.press("Space")
    press_button(page, "Envoyer la demande")
    page.wait_for_url("**/adherer/envoyee/")
    assert "Demande envoyée" in page.content()
    shot(page, "join-sent")


def approve(page, live: LiveCarnet) -> tuple[str, str]:
    """The cooperative's administrator approves; the invitation link and the username."""
    coop = live.account("marc.lefort")
    log_in(page, live, "marc.lefort", coop["password"], coop["totp_secret"])
    page.goto(f"{live.url}/cooperative/demandes/")
    assert serious_violations(page) == []
    page.get_by_role("link", name=NAME).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Dr Noémie Faure" in page.content()
    press_button(page, "Accepter et créer le cabinet")
    assert "Le cabinet a été créé" in page.content()
    assert serious_violations(page) == []
    shot(page, "join-approved")
    link = page.get_by_test_id("invitation-link").inner_text().strip()
    username = page.get_by_test_id("invited-username").inner_text().strip()
    pdf = page.request.get(re.sub(r"/$", "/invitation.pdf", page.url))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    return link, username


def test_a_practice_joins_and_pays_its_first_dues(browser, live_carnet) -> None:
    live = live_carnet
    contexts = [browser.new_context(locale="fr-FR") for _ in range(3)]
    applicant, coop, admin = (context.new_page() for context in contexts)
    try:
        apply(applicant, live)
        link, username = approve(coop, live)
        assert username == "noemie.faure"

        # The cooperative invoices the month's dues (2 practitioners).
        out = carnet_command(live, "invoice_dues", "--month", _this_month(), "--by", "marc.lefort")
        assert "maison-de-sante-du-vercors:" in out

        secret = enroll_from(admin, link)
        from tests.e2e.test_staff_browser import NEW_PASSWORD

        log_in(admin, live, username, NEW_PASSWORD, secret)
        admin.goto(f"{live.url}/p/maison-de-sante-du-vercors/adhesion/")
        assert admin.get_by_test_id("shares").inner_text().strip() == "3"
        assert admin.get_by_test_id("dues-status").first.inner_text().strip() == "À payer"
        assert serious_violations(admin) == []
        shot(admin, "join-membership-to-pay")

        # The cooperative records the transfer received.
        coop.goto(f"{live.url}/cooperative/cotisations/")
        coop.get_by_role("link", name=NAME).focus()
        with coop.expect_navigation():
            coop.keyboard.press("Enter")
        assert serious_violations(coop) == []
        type_into(coop, "#id_reference", "VIR-VERCORS-001")
        press_button(coop, "Enregistrer le règlement")
        assert "Le règlement a été enregistré." in coop.content()

        admin.reload()
        assert admin.get_by_test_id("dues-status").first.inner_text().strip() == "Payé"
        assert "VIR-VERCORS-001" in admin.get_by_test_id("dues-payments").inner_text()
        shot(admin, "join-membership-paid")
    finally:
        for context in contexts:
            context.close()


def _this_month() -> str:
    from django.utils import timezone

    return timezone.localdate().strftime("%Y-%m")
