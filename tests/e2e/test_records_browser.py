"""In a real browser: register a patient, find her by a misspelled name, open the chart,
write a consultation, prescribe a drug found by name in the public drug database, and
print the prescription — a real PDF with the drug and the patient's name."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser


def test_a_gp_finds_a_patient_writes_a_consultation_and_prints_a_prescription(
    page, live_carnet: LiveCarnet
) -> None:
    slug = live_carnet.credentials["practice"]["slug"]
    # Karim (GP): Claire logged in a moment ago, and a TOTP code is never accepted twice.
    log_in(page, live_carnet, "karim.benali")
    page.wait_for_url(f"**/p/{slug}/")

    # Register Hélène Dupont.
    page.goto(f"{live_carnet.url}/p/{slug}/patients/nouveau/")
    page.get_by_label("Nom de naissance").fill("Dupont")
    page.get_by_label("Prénoms").fill("Hélène")
    page.get_by_label("Sexe").select_option("F")
    page.get_by_label("Date de naissance").fill("1962-03-14")
    page.get_by_label("Papier uniquement", exact=False).check()  # no phone given
    page.get_by_role("button", name="Enregistrer le patient").click()
    if page.get_by_test_id("duplicates").count():
        page.get_by_label("J'ai vérifié", exact=False).check()
        page.get_by_role("button", name="Enregistrer le patient").click()
    page.wait_for_url("**/patients/*/")

    # Find her with a typo and no accents, from the search box.
    page.goto(f"{live_carnet.url}/p/{slug}/")
    page.get_by_label("Nom, date de naissance (JJ/MM/AAAA) ou NIR").fill("helene dupond")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="DUPONT Hélène").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "DUPONT Hélène"

    # Write a consultation.
    page.get_by_role("link", name="Nouvelle consultation").click()
    page.get_by_label("Motif de la consultation").fill("Douleurs lombaires")
    page.get_by_label("Subjectif").fill("Lombalgie depuis 3 jours, sans irradiation")
    page.get_by_label("Poids (kg)").fill("64")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url("**/patients/*/")
    assert (
        "Douleurs lombaires"
        in page.locator("#h-encounters + article, .encounter").first.inner_text()
    )

    # Prescribe a drug found by name.
    page.get_by_role("link", name="Nouvelle ordonnance").click()
    page.locator("#id_items-0-drug_label").press_sequentially("doliprane 1000", delay=30)
    option = page.locator("#drugs-0 [data-pick-drug]").first
    option.wait_for(timeout=10_000)
    drug_name = option.get_attribute("data-label")
    option.click()
    assert page.locator("#id_items-0-drug_cis").input_value() != ""
    page.locator("#id_items-0-posology").fill("1 comprimé 3 fois par jour si douleur")
    page.locator("#id_items-0-duration_days").fill("5")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "prescription-form.png"), full_page=True)
    with page.expect_response(lambda response: response.url.endswith(".pdf")) as printed:
        page.get_by_role("button", name="Enregistrer et imprimer").click()
    assert printed.value.status == 200
    assert printed.value.headers["content-type"] == "application/pdf"
    # Chromium shows PDFs in its viewer: fetch the bytes with the browser's own session.
    pdf = page.context.request.get(printed.value.url).body()
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert drug_name and "PARACÉTAMOL 1000 mg" in text  # printed in DCI, not by brand
    assert "DUPONT Hélène" in text

    # Back on the chart, the consultation and the treatment are there.
    page.goto(page.url.split("/ordonnance/")[0] + "/" if "/ordonnance/" in page.url else page.url)
    page.screenshot(path=str(SCREENSHOTS / "chart.png"), full_page=True)
