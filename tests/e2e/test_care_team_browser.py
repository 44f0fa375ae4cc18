"""In a real browser, in the demo practice (a maison de santé whose care team is every
clinician): a physiotherapist who is nobody's GP of record opens a patient's chart without
emergency access, sees the care team on it, and finds the practice's setting with the
notice for the waiting room."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.e2e.test_login_browser import SCREENSHOTS, log_in
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser


def test_in_the_demo_practice_every_clinician_is_in_the_care_team(
    page, live_carnet: LiveCarnet
) -> None:
    slug = live_carnet.credentials["practice"]["slug"]
    # Hugo, a physiotherapist, GP of record of nobody (and who logs in nowhere else here:
    # a TOTP code is accepted once).
    log_in(page, live_carnet, "hugo.lambert")
    page.wait_for_url(f"**/p/{slug}/")

    page.get_by_role("link", name="Équipe de soins").click()
    page.wait_for_url(f"**/p/{slug}/equipe-de-soins/")
    setting = page.get_by_test_id("care-team-mode").inner_text()
    assert "Tous les soignants du cabinet sont dans l'équipe de soins" in setting
    clinicians = page.get_by_test_id("clinicians").inner_text()
    for name in ("Dr Claire Martin", "Dr Karim Benali", "Lucie Garnier", "Hugo Lambert"):
        assert name in clinicians
    assert "Sophie Durand" not in clinicians  # the secretary is not a clinician
    assert page.get_by_text("Seul un administrateur du cabinet peut modifier ce réglage.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "care-team-setting.png"), full_page=True)

    # The notice, fetched with the browser's own session (Chromium would show it).
    href = page.get_by_test_id("notice").get_attribute("href")
    pdf = page.context.request.get(f"{live_carnet.url}{href}").body()
    assert pdf.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Vous pouvez dire non" in " ".join(text.split())

    # A patient of Dr Martin: the chart opens, with the team listed on it.
    page.goto(f"{live_carnet.url}/p/{slug}/patients/?q=a")
    page.locator("#patient-rows a").first.click()
    page.wait_for_url("**/patients/*/")
    assert page.get_by_test_id("clinical-refused").count() == 0
    team = page.get_by_test_id("care-team").inner_text()
    assert "tous les soignants sont dans l'équipe de soins" in team
    assert "Hugo Lambert" in team
    page.get_by_test_id("care-team").screenshot(path=str(SCREENSHOTS / "care-team-chart.png"))
