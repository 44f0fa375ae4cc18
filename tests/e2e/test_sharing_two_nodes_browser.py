"""Two live Carnet nodes (tests/sharing/test_two_nodes.py), their pages in Chromium: the
cooperative's administrator installs the signed directory on both; the secretary records
the paper consent; the GP sends a referral letter and a PDF document from the chart; the
other node's GP reads it in the inbox, picks the patient and accepts it; the receipt
shows on the sender's page. A second share is declined with a reason the sender reads;
after the consent is withdrawn the pending share is cancelled and the next one refused.
The worker's exchange step (``carnet exchange``) delivers between the steps. axe-core
finds no serious violation on the send form nor on the inbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.test_agenda_day_browser import SCREENSHOTS, log_in_with_the_keyboard
from tests.live_server import LiveCarnet
from tests.sharing.test_two_nodes import SLUG, Directory, Node, own_patient, running_nodes

pytestmark = pytest.mark.browser

GP = "claire.martin"  # the demo API token's practitioner, on both nodes
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
REPORT = "Compte rendu d'échographie"
LETTER = "Cher confrère, je vous adresse cette patiente pour avis."
REASON = "Nous ne suivons pas cette patiente"


@pytest.fixture(scope="module")
def two_nodes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, Node], Directory]]:
    """Lyon and Paris running, the directory signed but not installed yet."""
    with running_nodes(tmp_path_factory.mktemp("nodes"), import_directory=False) as running:
        yield running


def live(node: Node) -> LiveCarnet:
    var = Path(node.env["CARNET_VAR_DIR"])
    credentials = json.loads((var / "demo-credentials.json").read_text())
    return LiveCarnet(url=node.url, credentials=credentials, var_dir=var)


def session(browser: Any, node: Node, username: str) -> Any:
    """A page of its own browser context (the nodes share the host, so their cookies
    would collide), logged in with the keyboard."""
    page = browser.new_context(locale="fr-FR").new_page()
    log_in_with_the_keyboard(page, live(node), username)
    return page


def press(page: Any, selector: str, key: str = "Enter", navigates: bool = True) -> None:
    page.locator(selector).focus()
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(key)
    else:
        page.keyboard.press(key)


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"sharing-{name}.png"), full_page=True)


def no_serious_violation(page: Any) -> None:
    violations = serious_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False)


def states(page: Any) -> list[str]:
    """The states of the sent shares, newest first, as the page marks them."""
    rows = page.locator("[data-testid=shares] tbody tr[data-state]")
    return [rows.nth(i).get_attribute("data-state") for i in range(rows.count())]


def send(page: Any, letter: str, document: str = "") -> None:
    """The GP writes the letter (and ticks a document) and sends, with the keyboard."""
    page.locator("#id_recipient").focus()
    page.keyboard.press("ArrowDown")  # the single partner the consent names
    page.locator("#id_letter").focus()
    page.keyboard.type(letter)
    if document:
        page.get_by_label(document, exact=False).focus()
        page.keyboard.press("Space")
    press(page, "form:has(#id_letter) button[type=submit]")


def last_share(node: Node) -> str:
    rows = node.sql(
        "SELECT message_id FROM sharing_outboxmessage WHERE kind = 'share' ORDER BY id DESC"
    )
    return str(rows[0][0])


def exchange(*nodes: Node) -> None:
    for node in nodes:
        node.carnet("exchange")


def test_a_share_between_two_nodes_in_the_browser(
    browser: Any, two_nodes: tuple[dict[str, Node], Directory]
) -> None:
    found, directory = two_nodes
    lyon, paris = found["lyon"], found["paris"]

    # The cooperative's administrator installs the signed directory on each node.
    for node in (lyon, paris):
        admin = session(browser, node, "marc.lefort")
        admin.goto(f"{node.url}/cooperative/annuaire/")
        admin.set_input_files("#id_signed", str(directory.signed))
        admin.set_input_files("#id_cooperative_key", str(directory.key_file))
        press(admin, "form:has(#id_signed) button[type=submit]")
        assert admin.get_by_test_id("directory-version").is_visible()
        listed = admin.locator("table").inner_text()
        assert "lyon" in listed and "paris" in listed
        if node is paris:
            shot(admin, "directory")
        admin.context.close()
    assert lyon.sql("SELECT count(*) FROM sharing_directoryentry")[0][0] == 2

    patient = own_patient(lyon)
    chart = f"{lyon.url}/p/{SLUG}/patients/{patient}"

    # The secretary records the signed paper form: letters and documents, for Paris.
    desk = session(browser, lyon, "sophie.durand")
    desk.goto(f"{chart}/consentements/")
    desk.locator("#id_recipient").focus()
    desk.keyboard.press("ArrowDown")
    assert desk.locator("#id_recipient").input_value() == f"paris/{SLUG}"
    desk.locator("input[name=categories][value=letters]").focus()
    desk.keyboard.press("Space")
    desk.locator("#id_source").focus()
    desk.keyboard.type("formulaire papier signé n° 7")
    press(desk, "form:has(#id_source) button[type=submit]")
    assert "actif" in desk.locator("table").inner_text()
    shot(desk, "consent")

    # The GP adds a PDF (a file chooser: a click) and sends it with a referral letter.
    gp = session(browser, lyon, GP)
    gp.goto(f"{chart}/documents/ajouter/")
    gp.set_input_files(
        "#id_file",
        files=[{"name": "echographie.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    gp.locator("#id_title").focus()
    gp.keyboard.type(REPORT)
    press(gp, "form:has(#id_title) button[type=submit]")
    gp.goto(f"{chart}/partages/")
    assert gp.get_by_test_id("no-consent").count() == 0
    no_serious_violation(gp)
    send(gp, LETTER, document=REPORT)
    assert states(gp) == ["pending"]
    exchange(lyon)
    gp.reload()
    assert states(gp) == ["delivered"]

    # Paris: the GP reads it in the inbox, picks the patient and accepts it.
    there = session(browser, paris, GP)
    there.goto(f"{paris.url}/p/{SLUG}/partages/recus/")
    no_serious_violation(there)
    shot(there, "inbox")
    press(there, f"a[href*='{last_share(lyon)}']")
    shared = there.get_by_test_id("shared-person").inner_text()
    # The preview lists what came: the referral letter and the PDF.
    preview = there.locator("main").inner_text()
    assert "Lettre d\u2019adressage" in preview and REPORT in preview, preview
    candidates = there.locator("input[name=match]:not([value=new])")
    assert candidates.count() == 1, shared
    chosen = candidates.first.get_attribute("value")
    candidates.first.focus()
    there.keyboard.press("Space")
    shot(there, "inbox-share")
    press(there, "form:has(input[name=match]) button[type=submit]")
    assert there.url.rstrip("/").endswith(f"/patients/{chosen}")
    kept = paris.sql(
        "SELECT d.title, d.content_type FROM records_document d"
        " JOIN sharing_importedresource r ON r.target_id = d.id"
        " AND r.resource_type = 'DocumentReference'"
        f" WHERE d.patient_id = {int(chosen or 0)} ORDER BY d.title"
    )
    assert kept == [(REPORT, "application/pdf"), ("Lettre d\u2019adressage", "application/pdf")]

    # The receipt goes back and shows on the sender's page of the patient.
    exchange(paris, lyon)
    gp.reload()
    assert states(gp) == ["acknowledged"]
    receipt = gp.locator("[data-testid=shares] tbody tr").first.inner_text()
    assert "reçu le" in receipt and "Claire Martin" in receipt, receipt

    # A second share: declined at Paris with a reason Lyon reads.
    send(gp, "Pour avis complémentaire.")
    exchange(lyon)
    there.goto(f"{paris.url}/p/{SLUG}/partages/recus/")
    press(there, f"a[href*='{last_share(lyon)}']")
    there.locator("#id_reason").focus()
    there.keyboard.type(REASON)
    press(there, "form:has(#id_reason) button[type=submit]")
    assert REASON in there.locator("table").inner_text()
    exchange(paris, lyon)
    gp.reload()
    assert states(gp) == ["declined", "acknowledged"]
    assert REASON in gp.locator("[data-testid=shares] tbody tr").first.inner_text()

    # A third share waits in the outbox when the patient withdraws the consent: it is
    # cancelled, and the next one is refused.
    send(gp, "Un dernier courrier.")
    assert states(gp) == ["pending", "declined", "acknowledged"]
    desk.reload()
    press(desk, "form[action*='/retirer/'] button")
    assert "retiré" in desk.locator("table").inner_text()
    gp.reload()
    assert states(gp) == ["cancelled", "declined", "acknowledged"]
    assert gp.get_by_test_id("no-consent").is_visible()
    no_serious_violation(gp)
    gp.locator("#id_letter").focus()
    gp.keyboard.type("Encore un courrier.")
    press(gp, "form:has(#id_letter) button[type=submit]")
    assert gp.locator(".errors, .errorlist").count() >= 1
    shot(gp, "sent-states")
    exchange(lyon)
    assert lyon.sql(
        "SELECT status, count(*) FROM sharing_outboxmessage WHERE kind = 'share'"
        " GROUP BY status ORDER BY status"
    ) == [("acknowledged", 1), ("cancelled", 1), ("declined", 1)]
    # Paris holds the two shares as answered, and was told of the withdrawal.
    assert paris.sql("SELECT kind, status FROM sharing_inboxmessage ORDER BY id")[:2] == [
        ("share", "accepted"),
        ("share", "rejected"),
    ]
    assert [kind for (kind,) in paris.sql("SELECT kind FROM sharing_inboxmessage")].count(
        "share"
    ) == 2
    for page in (desk, gp, there):
        page.context.close()
