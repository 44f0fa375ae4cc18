"""The feuille de soins (cerfa n° 12541*02) printed whole on plain paper, or only its
values over the pre-printed form moved by the printer's correction; the correction
measured from a test print, refused when it is not a sensible number, kept per practice
(row-level security) and entered only by who may change the practice's billing details."""

from __future__ import annotations

import re
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from billing.models import Invoice, PrinterOffset
from core import tenancy
from core.audit.models import AuditEvent
from tests.billing.test_cover import attestation, cover_url
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

MM = 72 / 25.4  # PDF points in a millimetre


def words(pdf: bytes) -> dict[str, tuple[float, float]]:
    """Each word printed once on the page and its top-left corner, in millimetres."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        html = subprocess.run(
            ["/usr/bin/pdftotext", "-bbox", file.name, "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    found: dict[str, list[tuple[float, float]]] = {}
    for x, y, word in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]+)</word>', html
    ):
        found.setdefault(word, []).append((float(x) / MM, float(y) / MM))
    return {word: spots[0] for word, spots in found.items() if len(spots) == 1}


def pages(pdf: bytes) -> int:
    import io

    return len(PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def pia(billing_world: World):  # type: ignore[no-untyped-def]
    """Pia, the administrator of practice A."""
    tenancy.activate(billing_world.practice_a.pk)
    person = PersonFactory(username="pia", full_name="Pia Perrin")
    MembershipFactory(practice=billing_world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return person


def bill_in_tiers_payant(client: Client, world: World) -> Invoice:
    """The desk records Paul's cover and bills Alice's consultation, both insurers in
    tiers payant."""
    tenancy.activate(world.practice_a.pk)
    world.alice.am_number, world.alice.rpps = "691234567", "10003456789"
    world.alice.save(update_fields=["am_number", "rpps"])
    world.paul.nir = "180027512345678"
    world.paul.save(update_fields=["nir"])
    assert client.post(cover_url(world), attestation(c2s="")).status_code == 302
    made = client.post(
        f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/facturation/nouvelle/",
        {
            "issuer": world.alice.pk,
            "service_date": timezone.localdate().isoformat(),
            "codes": "G",
            "has_complementary": "on",
            "third_party_amo": "on",
            "third_party_amc": "on",
            "pathway": "treating",
        },
    )
    assert made.status_code == 302, made.content.decode()[:800]
    return Invoice.objects.get()


def sheet_url(world: World, invoice: Invoice, support: str = "") -> str:
    query = f"?support={support}" if support else ""
    return f"/p/{world.practice_a.slug}/factures/{invoice.pk}/feuille-de-soins.pdf{query}"


def test_the_plain_sheet_fills_every_block_from_the_invoice_and_the_cover_on_one_page(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    sam = login(client, world.sam)
    invoice = bill_in_tiers_payant(sam, world)
    pdf = sam.get(sheet_url(world, invoice)).content
    (Path("var/test") / "feuille-de-soins.pdf").write_bytes(pdf)  # to read it as the CPAM
    text = pdf_text(pdf)
    assert pages(pdf) == 1 and "page 1 / 1" in text
    today = timezone.localdate().strftime("%d/%m/%Y")
    for printed in (
        "cerfa n° 12541*02",
        "DUPONT Paul",  # the patient
        "180027512345678",  # the NIR
        world.paul.birth_date.strftime("%d/%m/%Y"),
        "691 CPAM du Rhône",  # the caisse, from the cover
        "Dr Alice Arnaud",  # the practitioner, identifiers and address
        "691234567",
        "10003456789",
        "Cabinet A",
        "Médecin traitant (ou son remplaçant)",  # the pathway block
        "PRESCRIPTEUR (SI L'ACTE EST PRESCRIT)",
        today,  # the act line
        "30,00",
        "Mutuelle des Lilas",  # the complementary insurer identified
        "12345678",
        "adhérent A-998877",
        "SIGNATURE DE L'ASSURÉ(E)",
        invoice.reference,
    ):
        assert printed in text, printed
    spots = words(pdf)
    # the pathway, the ALD box and both tiers payant boxes are ticked or not, at their box
    ticks = [(x, y) for word, (x, y) in words_all(pdf) if word == "X"]
    assert any(abs(x - 12.6) < 2 and abs(y - 88.6) < 2 for x, y in ticks)  # médecin traitant
    assert any(abs(x - 12.6) < 2 and abs(y - 212.6) < 2 for x, y in ticks)  # AMO not paid
    assert any(abs(x - 12.6) < 2 and abs(y - 218.6) < 2 for x, y in ticks)  # AMC not paid
    assert not any(abs(y - 94.6) < 1 for _x, y in ticks)  # no other pathway ticked
    assert "Lilas" in spots


def words_all(pdf: bytes) -> list[tuple[str, tuple[float, float]]]:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        html = subprocess.run(
            ["/usr/bin/pdftotext", "-bbox", file.name, "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return [
        (word, (float(x) / MM, float(y) / MM))
        for x, y, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">([^<]+)</word>',
            html,
        )
    ]


def test_over_the_pre_printed_form_only_the_values_print_moved_by_the_printer_offsets(
    client: Client, billing_world: World, pia
) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    sam = login(client, world.sam)
    invoice = bill_in_tiers_payant(sam, world)
    plain = sam.get(sheet_url(world, invoice)).content
    bare = sam.get(sheet_url(world, invoice, "preimprime")).content
    # only the values: no frame, no printed label
    assert "Identification du médecin".upper() in pdf_text(plain).upper()
    assert "IDENTIFICATION" not in pdf_text(bare) and "PRESCRIPTEUR" not in pdf_text(bare)
    assert "691 CPAM du Rhône" in pdf_text(bare) and "Mutuelle des Lilas" in pdf_text(bare)
    admin = login(Client(), pia)
    saved = admin.post(
        f"/p/{world.practice_a.slug}/feuilles-de-soins/imprimante/",
        {"printer": "Accueil", "x_mm": "3,5", "y_mm": "-2"},
    )
    assert saved.status_code == 302
    offset = PrinterOffset.objects.get()
    moved = sam.get(sheet_url(world, invoice, f"preimprime-{offset.pk}")).content
    before, after = words(bare), words(moved)
    compared = [w for w in ("CPAM", "Lilas", "691234567", "12345678", "DUPONT") if w in before]
    assert len(compared) == 5
    for word in compared:
        dx, dy = after[word][0] - before[word][0], after[word][1] - before[word][1]
        assert abs(dx - 3.5) < 0.1 and abs(dy + 2) < 0.1, (word, dx, dy)
    # plain paper never moves: the frame is drawn with the values
    blanc = words(sam.get(sheet_url(world, invoice, "blanc")).content)
    assert blanc["CPAM"] == words(plain)["CPAM"]
    assert pages(moved) == 1
    # an unknown choice is refused with a reason, not printed
    wrong = sam.get(sheet_url(world, invoice, "preimprime-99999"), HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 400 and "pre-printed form" in wrong.content.decode()
    printed = AuditEvent.objects.filter(action="care_sheet.print", patient_id=world.paul.pk)
    assert printed.count() == 4  # plain, bare, moved, blanc: the refused one is not printed


def test_the_test_print_moves_its_crosses_and_samples_by_the_correction(
    client: Client, billing_world: World, pia
) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    admin = login(client, pia)
    url = f"/p/{world.practice_a.slug}/feuilles-de-soins/imprimante/"
    page = admin.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "page d'essai" in page.replace("&#x27;", "'").lower()
    zero = admin.get(f"{url}essai.pdf").content
    assert admin.post(url, {"printer": "Cabinet 2", "x_mm": "-1.5", "y_mm": "4"}).status_code == 302
    offset = PrinterOffset.objects.get()
    corrected = admin.get(f"{url}essai.pdf?imprimante={offset.pk}").content
    assert pages(zero) == pages(corrected) == 1
    Path("var/test/feuille-de-soins-essai.pdf").write_bytes(corrected)
    assert "x = -1,5 mm, y = 4,0 mm" in pdf_text(corrected)
    before, after = words(zero), words(corrected)
    for word in ("EXEMPLE-1", "751234567"):
        dx, dy = after[word][0] - before[word][0], after[word][1] - before[word][1]
        assert abs(dx + 1.5) < 0.1 and abs(dy - 4) < 0.1, (word, dx, dy)
    assert admin.get(f"{url}essai.pdf?imprimante=abc").status_code == 404


@pytest.mark.parametrize(
    ("x_mm", "y_mm", "field", "french", "english"),
    [
        ("deux", "0", "x_mm", "Donnez un nombre de millimètres", "Give a number of millimetres"),
        ("0", "", "y_mm", "Donnez un nombre de millimètres", "Give a number of millimetres"),
        ("1", "25", "y_mm", "25 mm, c'est trop loin", "25 mm is too far"),
        ("-20.5", "0", "x_mm", "-20.5 mm, c'est trop loin", "-20.5 mm is too far"),
        ("NaN", "0", "x_mm", "Donnez un nombre de millimètres", "Give a number of millimetres"),
    ],
)
def test_a_bad_correction_is_refused_in_french_and_english_and_stores_nothing(
    client: Client,
    billing_world: World,
    pia,
    x_mm: str,
    y_mm: str,
    field: str,
    french: str,
    english: str,
) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    admin = login(client, pia)
    url = f"/p/{world.practice_a.slug}/feuilles-de-soins/imprimante/"
    body = {"printer": "Accueil", "x_mm": x_mm, "y_mm": y_mm}
    fr = admin.post(url, body, HTTP_ACCEPT_LANGUAGE="fr")
    en = admin.post(url, body, HTTP_ACCEPT_LANGUAGE="en")
    assert fr.status_code == en.status_code == 400
    assert french in fr.content.decode().replace("&#x27;", "'")
    assert english in en.content.decode()
    assert 'role="alert"' in fr.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert PrinterOffset.objects.count() == 0


def test_a_printer_is_corrected_by_its_name_and_a_bad_value_keeps_the_old_one(
    client: Client, billing_world: World, pia
) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    admin = login(client, pia)
    url = f"/p/{world.practice_a.slug}/feuilles-de-soins/imprimante/"
    assert admin.post(url, {"printer": "Accueil", "x_mm": "1", "y_mm": "1"}).status_code == 302
    assert admin.post(url, {"printer": "Accueil", "x_mm": "2", "y_mm": "0.5"}).status_code == 302
    assert admin.post(url, {"printer": "Accueil", "x_mm": "2", "y_mm": "99"}).status_code == 400
    assert admin.post(url, {"printer": "", "x_mm": "2", "y_mm": "1"}).status_code == 400
    tenancy.activate(world.practice_a.pk)
    assert list(PrinterOffset.objects.values_list("printer", "x_mm", "y_mm")) == [
        ("Accueil", Decimal("2.0"), Decimal("0.5"))
    ]
    assert AuditEvent.objects.filter(action="printer.calibrate").count() == 2


def test_another_practice_sees_none_of_the_offsets_and_the_desk_does_not_calibrate(
    client: Client, billing_world: World, pia
) -> None:  # type: ignore[no-untyped-def]
    world = billing_world
    admin = login(client, pia)
    url = f"/p/{world.practice_a.slug}/feuilles-de-soins/imprimante/"
    assert admin.post(url, {"printer": "Accueil A", "x_mm": "1", "y_mm": "1"}).status_code == 302
    tenancy.activate(world.practice_a.pk)
    offset_a = PrinterOffset.objects.get()
    # row-level security: in practice B the table is empty
    tenancy.activate(world.practice_b.pk)
    assert PrinterOffset.objects.count() == 0
    assert not PrinterOffset.objects.filter(pk=offset_a.pk).exists()
    tenancy.activate(None)
    # B's administrator neither lists nor uses A's printer
    tenancy.activate(world.practice_b.pk)
    bea = PersonFactory(username="bea", full_name="Béa Bernard")
    MembershipFactory(practice=world.practice_b, person=bea, role="practice_admin")
    tenancy.activate(None)
    b = login(Client(), bea)
    b_url = f"/p/{world.practice_b.slug}/feuilles-de-soins/imprimante/"
    assert "Accueil A" not in b.get(b_url).content.decode()
    assert b.get(f"{b_url}essai.pdf?imprimante={offset_a.pk}").status_code == 404
    # A's page is not B's administrator's to open
    assert b.get(url).status_code in (403, 404)
    # the secretary prints over the form but does not calibrate; the refusal is audited
    sam = login(Client(), world.sam)
    assert sam.get(url).status_code == 403
    assert sam.post(url, {"printer": "X", "x_mm": "0", "y_mm": "0"}).status_code == 403
    assert sam.get(f"{url}essai.pdf").status_code == 403
    refused = AuditEvent.objects.filter(
        action="access.denied", actor_id=world.sam.pk, target="printer_offsets"
    )
    assert refused.count() == 3
    tenancy.activate(world.practice_a.pk)
    assert PrinterOffset.objects.count() == 1
