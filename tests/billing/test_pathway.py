"""The coordinated care pathway on the invoice: suggested from the declared médecin
traitant and the patient's age, chosen by the desk, priced (outside the pathway the AMO
pays 30 %), explained on the invoice and ticked on the feuille de soins."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client
from django.utils import timezone

from billing.models import Invoice
from tests.fixtures import World
from tests.records.test_views import login, pdf_text
from tests.token_api import TokenApi


def test_the_form_suggests_the_pathway_and_the_sheet_ticks_it(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/facturation/nouvelle/"
    # Paul's médecin traitant is Alice: billing in her own name is in the pathway; the
    # desk, billing for whoever, is asked.
    form = login(Client(), world.alice).get(url).content.decode()
    assert 'value="treating" selected' in form
    assert 'value="treating" selected' not in sam.get(url).content.decode()
    made = sam.post(
        url,
        {
            "issuer": world.bob.pk,
            "service_date": timezone.localdate().isoformat(),
            "codes": "G",
            "has_complementary": "on",
            "pathway": "outside",
        },
    )
    assert made.status_code == 302, made.content.decode()[:1000]
    invoice = Invoice.objects.get()
    assert (invoice.pathway, invoice.amo_amount, invoice.amc_amount) == (
        "outside",
        Decimal("7.00"),
        Decimal("9.00"),
    )
    detail = sam.get(
        f"/p/{world.practice_a.slug}/factures/{invoice.pk}/", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert "30 %" in detail.content.decode()
    sheet = pdf_text(
        sam.get(f"/p/{world.practice_a.slug}/factures/{invoice.pk}/feuille-de-soins.pdf").content
    )
    assert "PARCOURS DE SOINS COORDONNÉS" in sheet.upper() and "Hors parcours de soins" in sheet
    assert "page 1 / 1" in sheet  # the feuille de soins stays on one page
    assert "30 % au lieu de 70 %" in sheet


def test_the_api_takes_the_pathway_and_refuses_an_unknown_one(billing_world: World) -> None:
    world = billing_world
    api = TokenApi(world, world.sam)
    body = {
        "practitioner": world.alice.pk,
        "service_date": timezone.localdate().isoformat(),
        "lines": [{"code": "G"}],
    }
    wrong = api.send("post", f"patients/{world.paul.pk}/invoices/", {**body, "pathway": "x"})
    assert wrong.status_code == 400 and "pathway" in wrong.json()["error"]["fields"]
    assert not Invoice.objects.exists()
    inside = api.send(
        "post", f"patients/{world.paul.pk}/invoices/", {**body, "pathway": "treating"}
    )
    assert inside.status_code == 201 and inside.json()["amo_amount"] == "19.00"
