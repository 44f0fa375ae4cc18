"""Billing pages: a secretary bills a consultation without seeing its note, takes a
partial cheque then the rest, prints the care sheet, closes the day."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from billing.models import Invoice, Payment
from records import services as records
from records.access import access_for
from tests.fixtures import World
from tests.records.test_views import login, pdf_text


def test_the_secretary_bills_takes_payments_prints_and_closes(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    encounter = records.consultation_record(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        reason="Suivi HTA",
        subjective="NOTE-CONFIDENTIELLE",
    )
    sam = login(client, world.sam)
    slug = world.practice_a.slug
    page = sam.get(f"/p/{slug}/patients/{world.paul.pk}/facturation/").content.decode()
    assert "NOTE-CONFIDENTIELLE" not in page and "Suivi HTA" not in page
    assert "<td>Consultation au cabinet</td>" in page and "<td>office</td>" not in page
    form = sam.get(
        f"/p/{slug}/patients/{world.paul.pk}/facturation/nouvelle/?consultation={encounter.pk}"
    )
    assert form.status_code == 200
    assert 'value="G"' in form.content.decode()  # suggested from the consultation
    response = sam.post(
        f"/p/{slug}/patients/{world.paul.pk}/facturation/nouvelle/",
        {
            "issuer": world.alice.pk,
            "service_date": encounter.occurred_at.date().isoformat(),
            "codes": "G",
            "has_complementary": "on",
            "encounter": encounter.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.number, invoice.total, invoice.encounter_id) == (
        "issued",
        1,
        Decimal("30.00"),
        encounter.pk,
    )
    url = f"/p/{slug}/factures/{invoice.pk}/"
    key = "0123456789abcdef"
    assert (
        sam.post(
            url,
            {
                "method": "cheque",
                "amount": "20.00",
                "cheque_number": "7654321",
                "idempotency_key": key,
            },
        ).status_code
        == 302
    )
    # A double click: the same form again.
    sam.post(
        url,
        {"method": "cheque", "amount": "20.00", "cheque_number": "7654321", "idempotency_key": key},
    )
    assert Payment.objects.count() == 1
    too_much = sam.post(url, {"method": "cash", "amount": "10.01", "idempotency_key": "other-1"})
    assert too_much.status_code == 400 and Payment.objects.count() == 1
    assert (
        sam.post(
            url, {"method": "cash", "amount": "10.00", "idempotency_key": "other-2"}
        ).status_code
        == 302
    )
    sheet = sam.get(f"{url}feuille-de-soins.pdf")
    text = pdf_text(sheet.content)
    assert (
        "Feuille de soins" in text and "DUPONT Paul" in text and "30.00" in text.replace(",", ".")
    )
    journal = sam.get(f"/p/{slug}/caisse/").content.decode()
    assert "30.00" in journal or "30,00" in journal
    assert sam.post(f"/p/{slug}/caisse/cloturer/").status_code == 400  # not confirmed
    assert 'data-testid="day-closed"' not in sam.get(f"/p/{slug}/caisse/").content.decode()
    assert sam.post(f"/p/{slug}/caisse/cloturer/", {"confirm": "on"}).status_code == 302
    assert 'data-testid="day-closed"' in sam.get(f"/p/{slug}/caisse/").content.decode()
    slip = pdf_text(sam.get(f"/p/{slug}/caisse/bordereau.pdf").content)
    assert "7654321" in slip


def test_an_unknown_code_gets_a_clear_error_and_nothing_is_written(
    client: Client, billing_world: World
) -> None:
    sam = login(client, billing_world.sam)
    response = sam.post(
        f"/p/{billing_world.practice_a.slug}/patients/{billing_world.paul.pk}/facturation/nouvelle/",
        {
            "issuer": billing_world.alice.pk,
            "service_date": "2025-03-10",
            "codes": "ZZZ",
        },
    )
    assert response.status_code == 400 and "ZZZ" in response.content.decode()
    assert not Invoice.objects.exists()


def test_billing_another_practice_patient_is_not_found(
    client: Client, billing_world: World
) -> None:
    sam = login(client, billing_world.sam)
    assert (
        sam.get(
            f"/p/{billing_world.practice_a.slug}/patients/{billing_world.zoe.pk}/facturation/"
        ).status_code
        == 404
    )


def test_billing_goes_through_the_policy_an_excluded_secretary_is_refused(
    client: Client, billing_world: World
) -> None:
    from core.access import choices
    from core.audit.models import AuditEvent

    world = billing_world
    sam = login(client, world.sam)
    page = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/facturation/"
    assert sam.get(page).status_code == 200
    read = AuditEvent.objects.filter(
        action="patient.read", actor_id=world.sam.pk, purpose="billing"
    )
    assert read.filter(patient_id=world.paul.pk).exists()
    # Paul asks that Sam no longer sees his file: billing too is closed to her.
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=world.sam.pk,
        source="formulaire n° 9",
    )
    assert sam.get(page).status_code == 403
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).latest("seq")
    assert denial.details["rule"] == "excluded-by-patient"
