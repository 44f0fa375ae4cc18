"""In a real browser, with the keyboard: the practice's administrator pastes their
OpenPGP public key and downloads the practice's export, encrypted (it opens with their
secret key only), then asks to leave the cooperative, typing the practice's name to
confirm; the page then shows the date of the deletion and offers to stay. The
cooperative's administrator sees the notice on the member's page. No critical or serious
accessibility problem on the way (axe-core). On a Carnet of its own: asking to leave
changes the practice for every later story."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.carnet.test_leaving import practice_key
from tests.e2e.axe import serious_violations
from tests.e2e.test_staff_browser import log_in, press_button, shot
from tests.live_server import LiveCarnet, live_carnet_running

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_carnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCarnet]:
    setup = (["load_reference"], ["load_fees"], ["demo_data", "--patients", "12"])
    with live_carnet_running(tmp_path_factory, "leaving", setup) as carnet:
        yield carnet


def test_the_administrator_takes_the_export_and_asks_to_leave(
    browser, live_carnet: LiveCarnet, tmp_path: Path
) -> None:
    live = live_carnet
    slug = live.credentials["practice"]["slug"]
    name = live.credentials["practice"]["name"]
    gpg, public_key = practice_key(tmp_path / "gnupg")
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    coop_context = browser.new_context(locale="fr-FR")
    try:
        admin = live.account("claire.martin")
        log_in(page, live, "claire.martin", admin["password"], admin["totp_secret"])
        page.goto(f"{live.url}/p/{slug}/adhesion/")
        page.get_by_role(
            "link", name="Quitter la coopérative : votre export, votre demande"
        ).focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("h1").inner_text() == "Quitter la coopérative"
        assert serious_violations(page) == []
        shot(page, "leaving-page")

        # 1. The export: the key pasted, the download encrypted to it.
        page.locator("#id_public_key").focus()
        page.keyboard.insert_text(public_key)
        page.get_by_role("button", name="Télécharger l'export chiffré").focus()
        with page.expect_download() as download:
            page.keyboard.press("Enter")
        sealed = Path(download.value.path()).read_bytes()
        assert download.value.suggested_filename.endswith(".tar.gz.gpg")
        opened = gpg.decrypt(sealed)
        assert opened.ok, opened.status
        with tarfile.open(fileobj=io.BytesIO(opened.data), mode="r:gz") as tar:
            names = tar.getnames()
        assert f"carnet-{slug}/records.json" in names and f"carnet-{slug}/manifest.json" in names

        # 2. The request, confirmed with the practice's name typed again.
        page.locator("#id_confirmation").focus()
        page.keyboard.type(name)
        press_button(page, "Demander à quitter la coopérative")
        assert "Votre demande de départ est enregistrée" in page.content()
        assert page.get_by_test_id("leaving-status").is_visible()
        assert page.get_by_role("button", name="Rester dans la coopérative").is_visible()
        assert serious_violations(page) == []
        shot(page, "leaving-requested")

        # The cooperative's administrator sees the notice on the member's page.
        coop_page = coop_context.new_page()
        coop = live.account("marc.lefort")
        log_in(coop_page, live, "marc.lefort", coop["password"], coop["totp_secret"])
        coop_page.goto(f"{live.url}/cooperative/cotisations/")
        coop_page.get_by_role("link", name=name).focus()
        with coop_page.expect_navigation():
            coop_page.keyboard.press("Enter")
        assert "Départ : préavis en cours" in coop_page.content()
        assert coop_page.get_by_test_id("leaving-on").is_visible()
        assert serious_violations(coop_page) == []
        shot(coop_page, "leaving-coop-member")
    finally:
        context.close()
        coop_context.close()
