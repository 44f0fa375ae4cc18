"""A real Carnet, started as in production (tests/live_server.py), and a real Chromium
(Debian's) driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveCarnet, live_carnet_running

CHROMIUM = os.environ.get("CARNET_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def live_carnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCarnet]:
    setup = (["load_reference"], ["load_fees"], ["demo_data", "--patients", "30"])
    with live_carnet_running(tmp_path_factory, "e2e", setup) as carnet:
        yield carnet


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()
