"""A Belgian practice bills INAMI acts priced by the Belgian rules (mutualité, ticket
modérateur, BIM); French codes and rules never apply to it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from billing import pricing
from billing.models import Invoice
from billing.pricing import Coverage
from billing.services import LineInput, invoice_draft, issuer_for
from core import tenancy
from core.practices.models import Practice
from core.practices.selectors import country_of
from tests.fixtures import World

DAY = date(2025, 3, 10)


@pytest.fixture
def belgian(billing_world: World) -> World:
    with connection.cursor() as cursor:  # practices are written by the owner role
        cursor.execute("SET ROLE carnet_owner")
        try:
            Practice.objects.filter(pk=billing_world.practice_b.pk).update(country="BE")
        finally:
            cursor.execute("SET ROLE carnet_app")
    assert country_of(billing_world.practice_b.pk) == "BE"
    return billing_world


def draft_be(world: World, *lines: LineInput, coverage: Coverage | None = None) -> Invoice:
    return invoice_draft(
        actor=world.actor(world.charlie, world.practice_b),
        issuer=issuer_for(world.charlie),
        patient_id=world.zoe.pk,
        birth_date=world.zoe.birth_date,
        service_date=DAY,
        lines=list(lines),
        coverage=coverage or Coverage(has_complementary=True),
        pathway="outside",
    )


def test_a_belgian_consultation_is_priced_by_the_belgian_rules(belgian: World) -> None:
    invoice = draft_be(belgian, LineInput("101032"))
    # Fee 33.85; the mutualité reimburses 29.35; the ticket modérateur is the rest. No
    # participation forfaitaire, no complementary insurer, no care-pathway penalty.
    assert (invoice.total, invoice.amo_amount, invoice.amc_amount) == (
        Decimal("33.85"),
        Decimal("29.35"),
        Decimal("0.00"),
    )
    assert (invoice.patient_amount, invoice.patient_contribution) == (
        Decimal("4.50"),
        Decimal("0.00"),
    )
    assert invoice.pathway == ""
    assert [line.code for line in invoice.lines.all()] == ["101032"]


def test_bim_status_and_third_party_payment(belgian: World) -> None:
    invoice = draft_be(
        belgian,
        LineInput("103132", quantity=2),
        coverage=Coverage(preferential=True, third_party_amo=True),
    )
    assert invoice.total == Decimal("101.04")
    assert invoice.amo_amount == Decimal("95.04")
    assert invoice.patient_amount == Decimal("6.00")
    assert invoice.due_at_desk == Decimal("6.00")


def test_a_french_code_is_refused_in_a_belgian_practice(belgian: World) -> None:
    with pytest.raises(ValidationError) as error:
        draft_be(belgian, LineInput("G"))
    messages = " ".join(m for ms in error.value.message_dict.values() for m in ms)
    assert "INAMI" in messages
    assert not Invoice.objects.filter(patient_id=belgian.zoe.pk).exists()


def test_an_inami_code_is_unknown_to_a_french_practice(billing_world: World) -> None:
    with pytest.raises(ValidationError) as error:
        invoice_draft(
            actor=billing_world.actor(billing_world.alice),
            issuer=issuer_for(billing_world.alice),
            patient_id=billing_world.paul.pk,
            birth_date=billing_world.paul.birth_date,
            service_date=DAY,
            lines=[LineInput("101032")],
            coverage=Coverage(),
        )
    assert "101032" in str(error.value)


@pytest.mark.parametrize(
    ("preferential", "third_party", "amo", "patient", "due"),
    [
        (False, False, "29.35", "4.50", "33.85"),
        (True, False, "32.85", "1.00", "33.85"),
        (False, True, "29.35", "4.50", "4.50"),
        (True, True, "32.85", "1.00", "1.00"),
    ],
)
def test_split_be_table(
    preferential: bool, third_party: bool, amo: str, patient: str, due: str
) -> None:
    line = pricing.PricedLine(
        code="101032",
        base=Decimal("33.85"),
        excess=Decimal("0"),
        amo_rate=Decimal("0"),
        refund_regular=Decimal("29.35"),
        refund_preferential=Decimal("32.85"),
    )
    split = pricing.split_be(
        [line], Coverage(preferential=preferential, third_party_amo=third_party)
    )
    assert (split.amo, split.patient, split.due_at_desk) == (
        Decimal(amo),
        Decimal(patient),
        Decimal(due),
    )
    assert split.amo + split.patient == split.total


def test_a_belgian_practice_refuses_to_bill_under_a_nir(belgian: World) -> None:
    nir = "185057800608491"
    with pytest.raises(ValidationError) as error:
        invoice_draft(
            actor=belgian.actor(belgian.charlie, belgian.practice_b),
            issuer=issuer_for(belgian.charlie),
            patient_id=belgian.zoe.pk,
            birth_date=belgian.zoe.birth_date,
            service_date=DAY,
            lines=[LineInput("101032")],
            coverage=Coverage(),
            national_number=nir,
        )
    assert "NIR" in " ".join(error.value.message_dict["patient"])
    assert not Invoice.objects.filter(patient_id=belgian.zoe.pk).exists()
    invoice = invoice_draft(
        actor=belgian.actor(belgian.charlie, belgian.practice_b),
        issuer=issuer_for(belgian.charlie),
        patient_id=belgian.zoe.pk,
        birth_date=belgian.zoe.birth_date,
        service_date=DAY,
        lines=[LineInput("101032")],
        coverage=Coverage(),
        national_number="85.07.30-033.28",
    )
    assert invoice.total == Decimal("33.85")


def test_a_french_practice_bills_under_its_nir_unchanged(billing_world: World) -> None:
    invoice = invoice_draft(
        actor=billing_world.actor(billing_world.alice),
        issuer=issuer_for(billing_world.alice),
        patient_id=billing_world.paul.pk,
        birth_date=billing_world.paul.birth_date,
        service_date=DAY,
        lines=[LineInput("G")],
        coverage=Coverage(has_complementary=True),
        national_number=billing_world.paul.nir,
    )
    assert (invoice.total, invoice.amo_amount, invoice.patient_contribution) == (
        Decimal("30.00"),
        Decimal("19.00"),
        Decimal("2.00"),
    )


def test_a_belgian_invoice_prints_an_attestation_de_soins(belgian: World) -> None:
    from billing.services import invoice_issue
    from billing.services.paper import invoice_paper_print
    from tests.records.test_views import pdf_text

    actor = belgian.actor(belgian.charlie, belgian.practice_b)
    invoice = invoice_issue(actor=actor, invoice=draft_be(belgian, LineInput("101032")))
    practice = Practice.objects.get(pk=belgian.practice_b.pk)
    pdf, name = invoice_paper_print(
        actor=actor, practice=practice, invoice=invoice, patient=belgian.zoe, document="care_sheet"
    )
    text = pdf_text(pdf)
    assert name.startswith("attestation-de-soins-")
    assert "Attestation de soins donnés" in text and "Getuigschrift" in text
    assert "101032" in text and "33,85 €" in text
    assert "N° INAMI / RIZIV : non enregistré dans Carnet" in text
    assert "eAttest" in text
    assert "12541" not in text
    receipt, _name = invoice_paper_print(
        actor=actor, practice=practice, invoice=invoice, patient=belgian.zoe, document="receipt"
    )
    assert "remboursement de la mutualité 29,35 €" in pdf_text(receipt)
    assert "complémentaire" not in pdf_text(receipt)


def test_the_attestation_names_the_inami_number_and_the_mutualite(belgian: World) -> None:
    """What the mutualité needs to reimburse: the practitioner's INAMI number (printed in
    its usual groups) and the patient's mutualité, from the cover recorded at the desk."""
    from billing.services import invoice_issue
    from billing.services.cover import CoverInput, cover_record
    from billing.services.paper import invoice_paper_print
    from core.accounts.models import Person
    from tests.records.test_views import pdf_text

    Person.objects.filter(pk=belgian.charlie.pk).update(inami="12345678003")
    actor = belgian.actor(belgian.charlie, belgian.practice_b)
    tenancy.activate(belgian.practice_b.pk, belgian.charlie.pk)
    cover_record(
        actor=actor,
        patient_id=belgian.zoe.pk,
        values=CoverInput(
            regime="01",
            caisse_code="319",
            caisse_name="Solidaris Wallonie",
            rights_from=date(2024, 1, 1),
        ),
    )
    invoice = invoice_issue(actor=actor, invoice=draft_be(belgian, LineInput("101032")))
    practice = Practice.objects.get(pk=belgian.practice_b.pk)
    pdf, _name = invoice_paper_print(
        actor=actor, practice=practice, invoice=invoice, patient=belgian.zoe, document="care_sheet"
    )
    text = pdf_text(pdf)
    assert "N° INAMI / RIZIV : 1-23456-78-003" in text
    assert "Mutualité / Ziekenfonds : 319 Solidaris Wallonie" in text
    assert "non enregistré" not in text


def test_the_invoice_page_of_a_belgian_practice(client: Client, belgian: World) -> None:
    from records.models import Patient
    from tests.records.test_views import login

    charlie = login(client, belgian.charlie)
    url = f"/p/{belgian.practice_b.slug}/patients/{belgian.zoe.pk}/facturation/nouvelle/"
    page = charlie.get(url).content.decode()
    assert "BIM" in page and "101032" in page
    assert 'name="pathway"' not in page and 'name="long_term_condition"' not in page
    post = {"issuer": belgian.charlie.pk, "service_date": "2025-03-10", "codes": "G"}
    refused = charlie.post(url, post)
    assert refused.status_code == 400 and "INAMI" in refused.content.decode()
    tenancy.activate(belgian.practice_b.pk)
    Patient.objects.filter(pk=belgian.zoe.pk).update(nir="185057800608491")
    nir = charlie.post(url, {**post, "codes": "101032"})
    assert nir.status_code == 400
    assert "numéro de registre national" in nir.content.decode()
    tenancy.activate(belgian.practice_b.pk)
    assert not Invoice.objects.filter(patient_id=belgian.zoe.pk).exists()
    Patient.objects.filter(pk=belgian.zoe.pk).update(nir="85073003328")
    issued = charlie.post(url, {**post, "codes": "101032", "preferential": "on"})
    assert issued.status_code == 302, issued.content.decode()[-2000:]
    tenancy.activate(belgian.practice_b.pk)
    invoice = Invoice.objects.get(patient_id=belgian.zoe.pk)
    assert (invoice.total, invoice.amo_amount, invoice.patient_amount) == (
        Decimal("33.85"),
        Decimal("32.85"),
        Decimal("1.00"),
    )
    detail = charlie.get(f"/p/{belgian.practice_b.slug}/factures/{invoice.pk}/").content.decode()
    assert "Remboursé par la mutualité" in detail and "Ticket modérateur" in detail
    assert "(AMC)" not in detail and "Parcours de soins" not in detail
    sheet = charlie.get(f"/p/{belgian.practice_b.slug}/factures/{invoice.pk}/feuille-de-soins.pdf")
    assert sheet.status_code == 200
    assert "attestation-de-soins" in sheet["Content-Disposition"]


def test_a_french_practice_invoice_page_has_no_belgian_field(
    client: Client, billing_world: World
) -> None:
    from tests.records.test_views import login

    sam = login(client, billing_world.sam)
    url = (
        f"/p/{billing_world.practice_a.slug}/patients/{billing_world.paul.pk}/facturation/nouvelle/"
    )
    page = sam.get(url).content.decode()
    assert 'name="preferential"' not in page and 'name="pathway"' in page
    assert "INAMI" not in page


def test_the_api_of_a_belgian_practice_bills_inami_acts(client: Client, belgian: World) -> None:
    from core.accounts import services as accounts
    from records.models import Patient
    from tests.records.test_api import Api

    tenancy.activate(belgian.practice_b.pk, belgian.charlie.pk)
    Patient.objects.filter(pk=belgian.zoe.pk).update(nir="85073003328")
    _token, plaintext = accounts.api_token_create(
        person=belgian.charlie, practice=belgian.practice_b, name="t"
    )
    api = Api(client, plaintext)
    fees = api.get("fees/?date=2025-03-10").json()
    assert {act["code"] for act in fees} >= {"101032", "103132"}
    assert "G" not in {act["code"] for act in fees}
    path = f"patients/{belgian.zoe.pk}/invoices/"
    body = {"practitioner": belgian.charlie.pk, "service_date": "2025-03-10"}
    french = api.send("post", path, {**body, "lines": [{"code": "G"}]})
    assert french.status_code == 400 and "INAMI" in french.content.decode()
    created = api.send(
        "post", path, {**body, "lines": [{"code": "101076"}], "third_party_amo": True}
    )
    assert created.status_code == 201, created.content
    invoice = created.json()
    assert (invoice["total"], invoice["amo_amount"], invoice["still_due"]) == (
        "35.64",
        "31.14",
        "4.50",
    )
