"""In a real browser, with the keyboard: the secretary opens the patients' rights from the
practice home, prints the leaflet in English (a real PDF, read back), registers a patient
and is offered the leaflet on the new chart; every page ends with the link to the source
of the running version. axe-core finds no critical or serious violation on these pages."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.axe import serious_violations
from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser


def press(page: Any, locator: Any) -> None:
    locator.focus()
    page.keyboard.press("Enter")


def assert_accessible(page: Any, name: str) -> None:
    problems = serious_violations(page)
    assert not problems, f"axe-core on the {name} page:\n" + "\n".join(problems)


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split()
    )


def test_the_desk_prints_the_rights_and_offers_the_leaflet_at_registration(
    page: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live, "sophie.durand")
    page.goto(f"{live.url}/p/{slug}/")
    press(page, page.get_by_role("link", name="Les droits des patients sur papier"))
    page.wait_for_url(f"**/p/{slug}/droits/")
    assert_accessible(page, "patients' rights")
    page.screenshot(path=str(SCREENSHOTS / "patient-rights.png"), full_page=True)

    # The leaflet in English: the language is chosen on the page.
    leaflet_form = page.get_by_test_id("leaflet-form")
    leaflet_form.get_by_label("Langue").select_option("en")
    action = leaflet_form.get_attribute("action")
    pdf = page.request.get(f"{live.url}{action}?lang=en")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.body())
    assert "Your rights over your medical record" in text and "Just ask at the desk" in text

    # The footer's source link, on every page.
    source = page.get_by_test_id("source-link")
    assert source.get_attribute("href") == "/source/"

    # A new patient: the registration page and then the chart offer the leaflet.
    page.goto(f"{live.url}/p/{slug}/patients/nouveau/")
    assert page.get_by_role("link", name="Imprimer le dépliant de vos droits").is_visible()
    assert_accessible(page, "new patient")
    page.get_by_label("Nom de naissance").fill("Rivière")
    page.get_by_label("Prénoms").fill("Odette")
    page.get_by_label("Sexe").select_option("F")
    page.get_by_label("Date de naissance").fill("1950-02-03")
    page.get_by_label("Papier uniquement", exact=False).check()
    page.get_by_label("Médecin traitant").select_option("none")
    page.get_by_label("Ville").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/patients/\d+/$"))
    offer = page.get_by_test_id("rights-leaflet")
    assert offer.is_visible()
    link = offer.get_by_role("link", name="Imprimer le dépliant de vos droits")
    assert link.get_attribute("href") == f"/p/{slug}/droits/depliant.pdf?lang=fr"
    assert_accessible(page, "new chart")
    page.screenshot(path=str(SCREENSHOTS / "patient-rights-chart.png"), full_page=True)
    assert page.get_by_test_id("source-link").count() == 1
