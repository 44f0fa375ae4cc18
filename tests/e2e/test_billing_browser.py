"""In a real browser, the secretary: records the patient's cover, bills a consultation,
takes a partial cheque payment then the rest, prints the care sheet (with the cover),
closes the day after seeing its totals. axe-core on the new pages."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def assert_accessible(page, name: str) -> None:  # type: ignore[no-untyped-def]
    problems = serious_violations(page)
    assert not problems, f"axe-core on the {name} page:\n" + "\n".join(problems)


def test_the_secretary_bills_takes_two_payments_prints_and_closes_the_day(
    page, live_carnet: LiveCarnet
) -> None:
    slug = live_carnet.credentials["practice"]["slug"]
    # A consultation written today, through the API with the demo token (Claire's).
    token = live_carnet.credentials["api_token"]["token"]
    api = page.context.request
    headers = {"Authorization": f"Bearer {token}"}
    patients = api.get(f"{live_carnet.url}/api/v1/patients/?q=", headers=headers).json()
    # Claire writes for one of her own patients (the others' records are refused to her).
    for patient in patients:
        created = api.post(
            f"{live_carnet.url}/api/v1/patients/{patient['id']}/encounters/",
            headers=headers,
            data={"reason": "Renouvellement", "kind": "office"},
        )
        if created.status == 201:
            break
    assert created.status == 201, created.text()

    log_in(page, live_carnet, "sophie.durand")
    page.wait_for_url(f"**/p/{slug}/")
    page.goto(f"{live_carnet.url}/p/{slug}/patients/{patient['id']}/facturation/")
    # The patient's cover, from the attestation: recorded, then shown on the billing page.
    page.get_by_role("link", name="Couverture sociale").first.click()
    page.wait_for_url("**/couverture/")
    assert_accessible(page, "cover")
    page.get_by_label("Code de la caisse (3 chiffres) *").fill("751")
    page.get_by_label("Caisse *", exact=True).fill("CPAM de Paris")
    page.get_by_label("Organisme complémentaire (mutuelle)").fill("Mutuelle du Rail")
    page.get_by_label("Numéro de l'organisme complémentaire").fill("87654321")
    page.get_by_role("button", name="Enregistrer la couverture").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("cover-current").wait_for()
    assert "CPAM de Paris" in page.get_by_test_id("cover-current").inner_text()
    page.goto(f"{live_carnet.url}/p/{slug}/patients/{patient['id']}/facturation/")
    page.get_by_role("link", name="Facturer").first.click()
    assert page.locator("#id_codes").input_value() == "G"
    page.get_by_role("button", name="Émettre la facture").click()
    page.wait_for_url("**/factures/*/")
    assert page.get_by_test_id("still-due").inner_text().startswith("30")

    # A partial cheque payment, then the rest in cash.
    page.get_by_label("Mode").select_option("cheque")
    page.get_by_label("Montant (€)").fill("20")
    page.get_by_label("Numéro du chèque").fill("1234567")
    page.get_by_label("Banque").fill("Banque Populaire")
    page.get_by_role("button", name="Enregistrer le règlement").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("still-due").inner_text().startswith("10")
    page.get_by_label("Mode").select_option("cash")
    page.get_by_label("Montant (€)").fill("10")
    page.get_by_role("button", name="Enregistrer le règlement").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("still-due").inner_text().startswith("0")

    # The care sheet.
    href = page.get_by_test_id("care-sheet").get_attribute("href")
    sheet = api.get(f"{live_carnet.url}{href}")
    assert sheet.headers["content-type"] == "application/pdf"
    text = pdf_text(sheet.body())
    assert "Feuille de soins" in text and "30.00" in text.replace(",", ".")
    assert "751 CPAM de Paris" in text and "Mutuelle du Rail" in text and "87654321" in text

    # Close the day.
    page.get_by_role("link", name="Journal de caisse").click()
    # Today's journal lists our cheque (the demo's own payments of the day are there too).
    assert "1234567" in page.locator("main table").inner_text()
    assert "Total" in page.get_by_test_id("day-totals").inner_text()
    # Closing asks first: the day's totals by method and each payee's cheques, then a
    # box to tick; the keyboard reaches both.
    page.get_by_role("link", name="Clôturer la journée").click()
    page.wait_for_url("**/caisse/cloturer/*")
    assert "Total" in page.get_by_test_id("close-totals").inner_text()
    assert "1234567" not in page.get_by_test_id("close-deposits").inner_text()  # counts only
    assert_accessible(page, "closing")
    page.screenshot(path=str(SCREENSHOTS / "cash-day-close.png"), full_page=True)
    page.get_by_label("J'ai compté les espèces et les chèques", exact=False).focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name=re.compile("^Clôturer la journée du")).focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("day-closed").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cash-day-closed.png"), full_page=True)
