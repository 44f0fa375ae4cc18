"""In a real browser, with the keyboard: Dr Martin opens her documentation time from the
practice home (the demo gives her a month of acts), prints it as a PDF and exports it as
CSV, then shares it with the practice; axe-core finds no critical or serious violation."""

from __future__ import annotations

import io
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


def test_a_practitioner_reads_prints_exports_and_shares_her_documentation_time(
    page: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live, "claire.martin")
    page.goto(f"{live.url}/p/{slug}/rapport/saisie/")
    press(page, page.get_by_role("link", name="Mon temps de saisie, acte par acte"))
    page.wait_for_url(f"**/p/{slug}/rapport/temps/*")
    main = page.locator("main").inner_text()
    assert "Temps de saisie" in main and "Claire Martin" in main
    problems = serious_violations(page)
    assert not problems, "axe-core on the documentation time page:\n" + "\n".join(problems)
    page.screenshot(path=str(SCREENSHOTS / "care-time.png"), full_page=True)

    pdf_href = page.get_by_role("link", name="Imprimer (PDF)").get_attribute("href")
    pdf = page.request.get(f"{page.url.split('?')[0]}{pdf_href}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages).split()
    )
    assert "Claire Martin" in text
    csv_href = page.get_by_role("link", name="Export (CSV)").get_attribute("href")
    csv = page.request.get(f"{page.url.split('?')[0]}{csv_href}")
    assert csv.status == 200 and "text/csv" in csv.headers["content-type"]

    press(
        page,
        page.get_by_role("button", name="Partager mes chiffres avec les praticiens du cabinet"),
    )
    page.get_by_role("button", name="Ne plus partager mes chiffres").wait_for()
