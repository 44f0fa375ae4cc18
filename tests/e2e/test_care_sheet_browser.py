"""In a real browser: the secretary records a patient's mandatory and complementary
cover, bills a consultation in tiers payant intégral, prints the feuille de soins (on
plain paper and over the pre-printed form) and later records both insurers' transfers:
what the insurers owe comes back to zero for that invoice. The practice's administrator
calibrates the printer from the test page, by keyboard. axe-core on every page seen."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.e2e.test_billing_browser import assert_accessible, pdf_text
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet, live_carnet_running

pytestmark = pytest.mark.browser

CAISSE = ("131", "CPAM des Bouches-du-Rhône")
AMC = ("Mutuelle des Calanques", "44556677")


@pytest.fixture(scope="module")
def live_carnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCarnet]:
    """A Carnet of its own: the cash-day story (test_billing_browser) closes today's cash
    day on the shared one, and a closed day takes no payment, an insurer's neither."""
    setup = (["load_reference"], ["load_fees"], ["demo_data", "--patients", "12"])
    with live_carnet_running(tmp_path_factory, "caresheet", setup) as carnet:
        yield carnet


def _patient_with_a_consultation(page, live: LiveCarnet) -> int:  # type: ignore[no-untyped-def]
    """A consultation written today by Dr Claire Martin, through the API (her token)."""
    token = live.credentials["api_token"]["token"]
    api = page.context.request
    headers = {"Authorization": f"Bearer {token}"}
    patients = api.get(f"{live.url}/api/v1/patients/?q=", headers=headers).json()
    for patient in reversed(patients):  # another patient than the cash-day test's
        created = api.post(
            f"{live.url}/api/v1/patients/{patient['id']}/encounters/",
            headers=headers,
            data={"reason": "Consultation", "kind": "office"},
        )
        if created.status == 201:
            return int(patient["id"])
    raise AssertionError("no patient of Claire's to write for")


def _record_insurer_payment(page, live: LiveCarnet, insurer: str, reference: str) -> None:  # type: ignore[no-untyped-def]
    slug = live.credentials["practice"]["slug"]
    page.goto(f"{live.url}/p/{slug}/tiers-payant/")
    section = page.get_by_test_id("insurer").filter(has_text=insurer)
    section.get_by_role("link", name="Enregistrer un paiement de cet organisme").click()
    page.wait_for_url("**/tiers-payant/paiement/?organisme=*")
    assert_accessible(page, f"payment from {insurer}")
    row = page.locator("tbody tr").filter(has_text=reference)
    owed = row.locator("input[type=text]").input_value().replace(",", ".")
    page.get_by_label("Montant (€) *", exact=True).fill(owed)
    page.get_by_label("Référence du décompte *").fill(f"DEC-{reference}")
    row.get_by_role("checkbox").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Enregistrer le règlement").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/p/{slug}/tiers-payant/")


def test_the_secretary_bills_in_tiers_payant_prints_the_sheet_and_the_insurers_pay(
    page, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    patient_id = _patient_with_a_consultation(page, live)
    api = page.context.request

    log_in(page, live, "sophie.durand")
    page.wait_for_url(f"**/p/{slug}/")
    # The cover, from the attestation de droits and the mutuelle's card.
    page.goto(f"{live.url}/p/{slug}/patients/{patient_id}/couverture/")
    assert_accessible(page, "cover")
    page.get_by_label("Code de la caisse (3 chiffres) *").fill(CAISSE[0])
    page.get_by_label("Caisse *", exact=True).fill(CAISSE[1])
    page.get_by_label("Organisme complémentaire (mutuelle)").fill(AMC[0])
    page.get_by_label("Numéro de l'organisme complémentaire").fill(AMC[1])
    page.get_by_role("button", name="Enregistrer la couverture").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("cover-current").wait_for()
    assert CAISSE[1] in page.get_by_test_id("cover-current").inner_text()

    # The consultation, billed with both insurers in tiers payant: nothing at the desk.
    page.goto(f"{live.url}/p/{slug}/patients/{patient_id}/facturation/")
    page.get_by_role("link", name="Facturer").first.click()
    page.get_by_label("Tiers payant : assurance maladie obligatoire").check()
    page.get_by_label("Tiers payant : complémentaire santé").check()
    assert_accessible(page, "invoice form")
    page.get_by_role("button", name="Émettre la facture").click()
    page.wait_for_url("**/factures/*/")
    assert_accessible(page, "invoice")
    reference = re.search(r"Facture (\S+)", page.get_by_role("heading", level=1).inner_text())
    assert reference is not None
    reference_text = reference.group(1)

    # The feuille de soins, on plain paper: the printing choice of the invoice page.
    choice = page.get_by_test_id("care-sheet-choice")
    page.get_by_label("Imprimer la feuille de soins sur").select_option("blanc")
    action = choice.get_attribute("action")
    sheet = api.get(f"{live.url}{action}?support=blanc")
    assert sheet.headers["content-type"] == "application/pdf"
    text = pdf_text(sheet.body())
    assert "page 1 / 1" in text  # one A4 page
    assert "PARCOURS DE SOINS COORDONNÉS" in text.upper()
    assert "691234561" in text  # Dr Claire Martin's Assurance Maladie identifier
    assert f"{CAISSE[0]} {CAISSE[1]}" in text
    assert AMC[0] in text and AMC[1] in text
    assert reference_text in text
    # Over the pre-printed form: the same values, without the form's own printing.
    bare = pdf_text(api.get(f"{live.url}{action}?support=preimprime").body())
    assert AMC[0] in bare and "IDENTIFICATION DU MÉDECIN" not in bare.upper()

    # Weeks later, the insurers' transfers: the mutuelle's, then the caisse's.
    _record_insurer_payment(page, live, AMC[0], reference_text)
    _record_insurer_payment(page, live, CAISSE[1], reference_text)
    assert_accessible(page, "tiers payant")
    assert reference_text not in page.locator("main").inner_text()  # owed nothing now
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "tiers-payant-settled.png"), full_page=True)


def test_the_administrator_calibrates_the_printer_from_the_test_page(
    page, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    log_in(page, live, "claire.martin")
    page.wait_for_url(f"**/p/{slug}/")
    page.goto(f"{live.url}/p/{slug}/caisse/")
    page.get_by_role("link", name="Impression sur la feuille de soins pré-imprimée").click()
    page.wait_for_url("**/feuilles-de-soins/imprimante/")
    assert_accessible(page, "printer calibration")
    test_page = page.get_by_test_id("test-print").get_attribute("href")
    assert "PAGE D'ESSAI" in pdf_text(page.context.request.get(f"{live.url}{test_page}").body())
    # A value too far is refused with the reason, and nothing is saved.
    page.get_by_label("Imprimante", exact=True).fill("Accueil")
    page.get_by_label("Correction horizontale (mm, positive vers la droite)").fill("35")
    page.get_by_label("Correction verticale (mm, positive vers le bas)").fill("-1,5")
    page.get_by_role("button", name="Enregistrer", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "c'est trop loin" in page.get_by_role("alert").first.inner_text()
    assert_accessible(page, "printer calibration with an error")
    page.get_by_label("Correction horizontale (mm, positive vers la droite)").fill("2")
    page.get_by_role("button", name="Enregistrer", exact=True).focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("printers").wait_for()
    assert "Accueil" in page.get_by_test_id("printers").inner_text()
    assert "-1,5" in page.get_by_test_id("printers").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "printer-calibration.png"), full_page=True)
