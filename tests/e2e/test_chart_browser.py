"""In a real browser at 1366x768, with the keyboard: a GP finds a patient, opens the
chart, and sees the allergy alert, the problems, the treatment, the vital signs with their
plots and the last consultations; axe-core finds no critical or serious accessibility
violation on the chart, nor on the consultation form with the record beside it.

axe-core comes from the axe-playwright-python package (tests/e2e/axe.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
DEMO_PATIENTS = 30  # as tests/e2e/conftest.py loads them


@pytest.fixture
def wide_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    yield page
    context.close()


def demo_patient_followed_over_time() -> dict[str, Any]:
    from django.utils import timezone

    from carnet_demo import records_demo as demo

    for identity in demo.demo_identities(DEMO_PATIENTS):
        history = demo.plan_history(
            sex=str(identity["sex"]),
            birth_date=identity["birth_date"],  # type: ignore[arg-type]
            key=str(identity["nir"]),
            today=timezone.localdate(),
        )
        measured = [dict(c.vitals) for c in history.consultations]
        if sum(1 for signs in measured if "weight" in signs and "systolic" in signs) >= 3:
            return identity
    raise AssertionError("the demo has no patient followed over time")


def test_the_chart_at_1366x768_by_keyboard_and_axe_finds_no_serious_violation(
    wide_page: Any, live_carnet: LiveCarnet
) -> None:
    page = wide_page
    slug = live_carnet.credentials["practice"]["slug"]
    log_in(page, live_carnet, "karim.benali")
    page.wait_for_url(f"**/p/{slug}/")

    # A patient of the demo weighed, with the blood pressure taken, at three
    # consultations or more (the demo is planned, so it is known in advance), found
    # from the search box and opened with the keyboard only.
    patient = demo_patient_followed_over_time()
    search = page.get_by_label("Nom, date de naissance (JJ/MM/AAAA) ou NIR")
    search.focus()
    page.keyboard.type(f"{patient['birth_name']} {patient['given_names']}")
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients/?q=*")
    page.locator("#patient-rows a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/patients/*/")

    # What a GP needs is on the first screen: banner with age and the allergy alert,
    # problems, treatment, vital signs and the last consultations.
    assert page.get_by_test_id("age").inner_text().endswith(("ans", "mois", "jours"))
    assert page.get_by_test_id("allergy-alert").is_visible()
    for heading in ("#h-problems", "#h-treatment", "#h-vitals", "#h-encounters"):
        box = page.locator(heading).bounding_box()
        assert box is not None and box["y"] + box["height"] <= HEIGHT, heading
    weight = page.get_by_test_id("weight-plot")
    assert weight.locator("svg circle").count() >= 3
    assert page.locator('[data-testid="bp-plot"] svg circle').count() >= 6
    assert weight.locator("svg title").first.text_content() == "Évolution du poids"
    vitals = page.get_by_test_id("vitals").inner_text()
    assert " kg" in vitals and "mmHg" in vitals
    assert "Cel" not in vitals and "mm[Hg]" not in vitals

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chart-1366x768.png"))
    page.screenshot(path=str(SCREENSHOTS / "chart-1366x768-full.png"), full_page=True)

    found = serious_violations(page)
    assert found == [], json.dumps(found, indent=2, ensure_ascii=False)

    # The consultation form, from the keyboard, with the record beside the note.
    page.get_by_role("link", name="Nouvelle consultation").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/consultation/")
    beside = page.get_by_test_id("beside")
    assert beside.is_visible()
    assert "Traitement en cours" in beside.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "consultation-1366x768.png"))
    found = serious_violations(page)
    assert found == [], json.dumps(found, indent=2, ensure_ascii=False)


def test_a_problem_is_coded_from_words_in_the_browser(
    wide_page: Any, live_carnet: LiveCarnet
) -> None:
    page = wide_page
    slug = live_carnet.credentials["practice"]["slug"]
    log_in(page, live_carnet, "karim.benali")
    page.wait_for_url(f"**/p/{slug}/")
    page.get_by_label("Nom, date de naissance (JJ/MM/AAAA) ou NIR").fill("a")
    page.keyboard.press("Enter")
    page.locator("#patient-rows a").first.click()
    page.wait_for_url("**/patients/*/")
    chart = page.url

    page.get_by_role("link", name="Problème", exact=True).click()
    page.get_by_label("Code CIM-10", exact=False).press_sequentially("diabete type 2", delay=30)
    option = page.locator('#cim10-options [data-code="E11"]')
    option.wait_for(timeout=10_000)
    option.click()
    assert page.get_by_label("Code CIM-10", exact=False).input_value() == "E11"
    assert page.locator("#id_label").input_value().startswith("Diabète sucré de type 2")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(chart)
    assert "E11" in page.locator("#h-problems + ul").inner_text()
