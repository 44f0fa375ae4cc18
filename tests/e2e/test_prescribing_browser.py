"""In a real browser, with the keyboard only: a GP records an allergy picked from the
reference (amoxicillin as a substance; for a second patient, the penicillins as the ATC
class J01C), then picks a drug containing amoxicillin on a new prescription. The alert
appears on the form before saving; saving needs a reason; the override is in the
patient's access report (the audit trail); the printed ordonnance shows the DCI.

axe-core (from the axe-playwright-python package, tests/e2e/axe.py) finds no critical or
serious violation on the prescription form with the drug suggestions open."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from pypdf import PdfReader

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

GP = "claire.martin"


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def type_into(page, selector: str, text: str) -> None:
    page.locator(selector).focus()
    page.keyboard.type(text)


def register(page, live: LiveCarnet, name: str, given: str, born: str) -> str:
    """A new patient of Dr Claire Martin, typed at the keyboard; returns the chart URL."""
    slug = live.credentials["practice"]["slug"]
    page.goto(f"{live.url}/p/{slug}/patients/nouveau/")
    type_into(page, "#id_birth_name", name)
    type_into(page, "#id_given_names", given)
    page.locator("#id_sex").focus()
    page.locator("#id_sex").select_option("F")
    page.locator("#id_birth_date").fill(born)  # a date field: filled as a date
    page.get_by_label("Papier uniquement", exact=False).focus()
    page.keyboard.press("Space")
    page.locator("#id_gp").focus()
    page.locator("#id_gp").select_option(label="Dr Claire Martin")
    page.locator("#id_given_names").focus()
    page.keyboard.press("Enter")
    chart_or_duplicates = page.locator("[data-testid=duplicates], h1")
    chart_or_duplicates.first.wait_for(timeout=15_000)
    if page.get_by_test_id("duplicates").count():
        page.get_by_label("J'ai vérifié", exact=False).focus()
        page.keyboard.press("Space")
        page.locator("#id_given_names").focus()
        page.keyboard.press("Enter")
    try:
        page.wait_for_url(re.compile(r".*/patients/\d+/$"), timeout=15_000)
    except Exception as error:
        alerts = " | ".join(a.inner_text() for a in page.get_by_role("alert").all())
        raise AssertionError(f"registration refused: {alerts}") from error
    return page.url


def record_allergy(page, chart_url: str, typed: str, option_text: str) -> None:
    """Type the allergen, Tab to the suggestion, pick it with Enter, save with Enter."""
    page.goto(chart_url + "ajouter/allergy/")
    type_into(page, "#id_substance", typed)
    option = page.locator("#suggest-substance [data-pick-allergen]", has_text=option_text).first
    option.wait_for(timeout=15_000)
    while not option.evaluate("element => element === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    picked = (
        page.locator("#id_substance_code").input_value()
        or page.locator("#id_atc_class").input_value()
    )
    assert picked, "the allergen was picked from the reference"
    page.get_by_role("button", name="Enregistrer").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(chart_url)


def open_suggestions(page, chart_url: str) -> None:
    page.goto(chart_url + "ordonnance/")
    type_into(page, "#id_items-0-drug_label", "amoxicilline arrow 500 gelule")
    page.locator("#drugs-0 [data-pick-drug]").first.wait_for(timeout=15_000)


def prescribe_over_the_alert(page, live: LiveCarnet, chart_url: str, shot: str) -> str:
    """Pick the drug: the alert appears before saving; saving without a reason is refused,
    with the reason it prints. Returns the PDF's text."""
    open_suggestions(page, chart_url)
    page.keyboard.press("Tab")  # to the first suggestion
    page.keyboard.press("Enter")
    assert page.locator("#id_items-0-drug_cis").input_value()
    blocking = page.locator("[data-testid=safety-alerts] .safety-alert.block").first
    blocking.wait_for(timeout=15_000)
    assert "Bloquant" in blocking.inner_text()
    # The cursor is on the quantity: the posology at the keyboard.
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("gélule")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.locator("#id_items-0-duration_days").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
    page.keyboard.press("Enter")  # saving without a reason
    page.wait_for_load_state()
    assert "donnez la raison" in page.get_by_role("alert").first.inner_text()
    type_into(page, "#id_override_reason", "Allergie ancienne douteuse, surveillance 1 h")
    page.get_by_role("button", name="Enregistrer et imprimer").focus()
    with page.expect_response(lambda response: response.url.endswith(".pdf")) as printed:
        page.keyboard.press("Enter")
    assert printed.value.status == 200
    return pdf_text(page.context.request.get(printed.value.url).body())


def access_report(page, chart_url: str) -> str:
    return pdf_text(page.context.request.get(chart_url + "acces.pdf").body())


def test_an_allergy_blocks_a_drug_until_a_reason_is_given(browser, live_carnet: LiveCarnet) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    try:
        log_in(page, live_carnet, GP)
        suffix = uuid.uuid4().hex[:4]

        # --- An allergy to amoxicillin, recorded as a substance of the reference.
        chart = register(page, live_carnet, "Allard", f"Bérénice {suffix}", "1971-09-30")
        record_allergy(page, chart, "amoxicilline", "AMOXICILLINE")

        # axe-core on the form with the drug suggestions open.
        open_suggestions(page, chart)
        assert page.locator("#drugs-0 [data-pick-drug]").count() > 1  # the suggestions are open
        problems = serious_violations(page)
        assert page.evaluate("() => typeof window.axe.run") == "function"  # axe did run
        assert not problems, "axe-core on the prescription form:\n" + "\n".join(problems)

        text = prescribe_over_the_alert(page, live_carnet, chart, "prescription-alert.png")
        assert "AMOXICILLINE 500 mg" in text  # the DCI
        assert "ARROW" not in text  # no brand unless asked for
        assert "1 gélule 3 fois par jour" in text
        report = access_report(page, chart)
        assert "a passé outre une alerte de sécurité" in report

        # --- The same with the penicillins recorded as the ATC class J01C.
        chart = register(page, live_carnet, "Rochefort", f"Capucine {suffix}", "1983-02-17")
        record_allergy(page, chart, "J01C", "J01C")
        text = prescribe_over_the_alert(page, live_carnet, chart, "prescription-class-alert.png")
        assert "AMOXICILLINE 500 mg" in text
        assert "a passé outre une alerte de sécurité" in access_report(page, chart)
    finally:
        context.close()
