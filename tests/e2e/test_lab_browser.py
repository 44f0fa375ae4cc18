"""In a real browser, with the keyboard only: Dr Martin opens her results to read from
the menu — the abnormal ones first —, opens the first (a glucose rising over three
reports: its trend is plotted), which marks it read, and signs it off "vu, à revoir"
with a note; the desk chooses the patient of a file the laboratory misspelt, never
seeing a value. axe-core finds no critical or serious violation on the pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.test_agenda_day_browser import database, log_in_with_the_keyboard
from tests.live_server import LiveCarnet

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "test" / "screenshots"


def lab_file(live: LiveCarnet, filename: str) -> tuple[Any, ...]:
    with psycopg.connect(database(live)) as connection:
        return connection.execute(
            "SELECT id, status, read_at, signed_off_at, conclusion, note FROM lab_labfile"
            " WHERE filename = %s",
            [filename],
        ).fetchone()


def test_the_gp_reads_her_results_abnormal_first_and_signs_one_off(
    page: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    log_in_with_the_keyboard(page, live, "claire.martin")
    page.get_by_role("link", name="Résultats", exact=True).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/p/{slug}/resultats/")
    table = page.get_by_test_id("to-read")
    rows = table.locator("tbody tr")
    assert rows.count() == 4
    assert "anorma" in rows.nth(0).inner_text() and "anorma" not in rows.nth(3).inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "lab-to-read.png"), full_page=True)
    assert serious_violations(page) == []

    rows.nth(0).get_by_role("link").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert lab_file(live, "bilan-glycemie.hpr")[2] is not None  # opened: read
    results = page.get_by_test_id("results").inner_text()
    assert "1,32 g/L" in results and "haut" in results
    assert page.get_by_test_id("lab-gly-plot").is_visible()  # three glucose values
    page.screenshot(path=str(SCREENSHOTS / "lab-report.png"), full_page=True)
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False)

    page.get_by_label("vu, à revoir").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type("Contrôle HbA1c dans 3 mois")
    page.get_by_role("button", name="Viser").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _id, _status, _read, signed, conclusion, note = lab_file(live, "bilan-glycemie.hpr")
    assert signed is not None and conclusion == "review" and note == "Contrôle HbA1c dans 3 mois"
    assert page.get_by_test_id("to-read").locator("tbody tr").count() == 3


def test_the_desk_matches_a_misspelt_file_without_seeing_a_value(
    page: Any, live_carnet: LiveCarnet
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    log_in_with_the_keyboard(page, live, "sophie.durand")
    page.goto(f"{live.url}/p/{slug}/resultats/reception/")
    queue = page.get_by_test_id("queue").inner_text()
    assert "glycemie.hpr" in queue and "tsh-tronque.hpr" in queue and "tronqué" in queue
    assert "0,95" not in queue and "0.95" not in queue
    assert serious_violations(page) == []
    page.get_by_role("link", name="Choisir le patient").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.screenshot(path=str(SCREENSHOTS / "lab-match.png"), full_page=True)
    assert serious_violations(page) == []
    candidates = page.get_by_test_id("candidates")
    assert "0,95" not in page.content()
    candidates.get_by_role("button").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert lab_file(live, "glycemie.hpr")[1] == "filed"
