"""Tiers payant pages: the aging report (page and PDF) names each patient once audited;
the desk records an insurer's transfer against many invoices with checkboxes, with a
clear message for what stays unallocated; bad input answers 400 and stores nothing; a
rejection is noted from the invoice; another practice and an excluded practitioner are
refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from billing.models import Invoice, Issuer, Payment, Rejection
from core import tenancy
from core.audit.models import AuditEvent
from tests.billing.test_tiers_payant import CPAM, amo, covered, issued
from tests.fixtures import World
from tests.records.test_identity import exclude
from tests.records.test_views import login, pdf_text
from tests.token_api import TokenApi


def _invoices(world: World, issuer: Issuer) -> tuple[Invoice, Invoice]:
    today = timezone.localdate()
    covered(world, today - timedelta(days=400))
    old = issued(world, issuer, today - timedelta(days=70))
    new = issued(world, issuer, today - timedelta(days=3))
    tenancy.activate(None)
    return old, new


def test_the_aging_report_lists_what_each_insurer_owes_by_age_page_and_pdf(
    client: Client, billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    old, new = _invoices(world, alice_issuer)
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/tiers-payant/"
    page = sam.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "CPAM du Rhône" in text and "Mutuelle des Lilas" in text and "DUPONT" in text
    assert text.count('data-testid="insurer"') == 2
    assert old.reference in text and new.reference in text
    reads = AuditEvent.objects.filter(patient_id=world.paul.pk, actor_id=world.sam.pk)
    assert reads.filter(action="patient.read").count() == 1  # Paul named twice, read once
    pdf = sam.get(f"{url}?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    printed = pdf_text(pdf.content)
    assert "Plus de 90 jours" in printed and "CPAM du Rhône" in printed
    cpam = str(amo(old) + amo(new)).replace(".", ",")
    assert f"{cpam} €" in printed and "Total dû par les organismes" in printed


def test_the_desk_records_a_transfer_settling_many_invoices(
    client: Client, billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    old, new = _invoices(world, alice_issuer)
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/tiers-payant/paiement/?organisme={CPAM}"
    form = sam.get(url)
    assert form.status_code == 200 and old.reference in form.content.decode()
    body = {
        "paid_on": timezone.localdate().isoformat(),
        "amount": "100.00",
        "reference": "DECOMPTE-42",
        "idempotency_key": "k-1",
        "facture": [old.pk, new.pk],
        f"montant_{old.pk}": str(amo(old)),
        f"montant_{new.pk}": str(amo(new)).replace(".", ","),
    }
    response = sam.post(url, body, follow=True)
    assert response.redirect_chain, response.content.decode()[:1500]
    unallocated = 100 - amo(old) - amo(new)
    assert (
        f"{str(unallocated).replace('.', ',')}\u00a0€" in response.content.decode()
    )  # the warning says what is left
    payment = Payment.objects.get()
    assert (payment.payer, payment.statement_reference, payment.allocations.count()) == (
        "amo",
        "DECOMPTE-42",
        2,
    )
    assert sam.post(url, body).status_code in (302, 400)  # the same form again: paid once
    assert Payment.objects.count() == 1
    detail = sam.get(f"/p/{world.practice_a.slug}/factures/{old.pk}/").content.decode()
    assert "CPAM du Rhône (DECOMPTE-42)" in detail
    receipt = pdf_text(sam.get(f"/p/{world.practice_a.slug}/factures/{old.pk}/recu.pdf").content)
    assert "Aucun règlement" in receipt  # the caisse's transfer is not the patient's payment
    cash_day = sam.get(f"/p/{world.practice_a.slug}/caisse/").content.decode()
    assert f"/p/{world.practice_a.slug}/tiers-payant/" in cash_day


def test_a_bad_transfer_answers_400_and_stores_nothing(
    client: Client, billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    old, _new = _invoices(world, alice_issuer)
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/tiers-payant/paiement/?organisme={CPAM}"
    base = {
        "paid_on": timezone.localdate().isoformat(),
        "amount": "10.00",
        "reference": "D-1",
        "idempotency_key": "k-2",
    }
    for more in (
        {"facture": [old.pk], f"montant_{old.pk}": "10.01"},  # more than the transfer
        {"facture": [old.pk], f"montant_{old.pk}": "abc"},
        {"facture": ["x"]},
        {"amount": "-1"},
        {"reference": ""},
    ):
        response = sam.post(url, {**base, **more})
        assert response.status_code == 400, more
        assert 'role="alert"' in response.content.decode(), more
    assert not Payment.objects.exists()
    nobody = f"/p/{world.practice_a.slug}/tiers-payant/paiement/?organisme=amo:999"
    assert sam.get(nobody).status_code == 200
    assert sam.post(nobody, base).status_code == 400
    assert not Payment.objects.exists()


def test_a_rejection_is_noted_from_the_invoice_and_shown_on_the_report(
    client: Client, billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    old, _new = _invoices(world, alice_issuer)
    sam = login(client, world.sam)
    slug = world.practice_a.slug
    assert (
        f"/p/{slug}/factures/{old.pk}/rejet/"
        in sam.get(f"/p/{slug}/factures/{old.pk}/").content.decode()
    )
    response = sam.post(
        f"/p/{slug}/factures/{old.pk}/rejet/", {"payer": "amo", "reason": "Droits fermés"}
    )
    assert response.status_code == 302
    assert Rejection.objects.get().reason == "Droits fermés"
    assert "Droits fermés" in sam.get(f"/p/{slug}/tiers-payant/").content.decode()
    for bad in ({"payer": "amo", "reason": ""}, {"payer": "amc", "reason": "x" * 301}):
        refused = sam.post(f"/p/{slug}/factures/{old.pk}/rejet/", bad)
        assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    assert Rejection.objects.count() == 1


def test_another_practice_and_an_excluded_practitioner_are_refused(
    billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    old, _new = _invoices(world, alice_issuer)
    slug = world.practice_a.slug
    charlie = login(Client(), world.charlie)
    assert charlie.get(f"/p/{slug}/tiers-payant/").status_code in (403, 404)
    assert charlie.post(
        f"/p/{slug}/tiers-payant/paiement/?organisme={CPAM}",
        {"paid_on": "2026-01-01", "amount": "1", "reference": "x", "idempotency_key": "c"},
    ).status_code in (403, 404)
    assert charlie.post(
        f"/p/{slug}/factures/{old.pk}/rejet/", {"payer": "amo", "reason": "x"}
    ).status_code in (403, 404)
    exclude(world, world.bob)
    tenancy.activate(None)
    bob = login(Client(), world.bob)
    page = bob.get(f"/p/{slug}/tiers-payant/").content.decode()
    assert old.reference in page and "DUPONT" not in page  # the share, not the patient
    assert bob.post(
        f"/p/{slug}/factures/{old.pk}/rejet/", {"payer": "amo", "reason": "x"}
    ).status_code in (403, 404)
    assert not Payment.objects.exists() and not Rejection.objects.exists()


def test_the_api_gives_the_aging_report_and_refuses_another_practice(
    billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    old, new = _invoices(world, alice_issuer)
    answer = TokenApi(world, world.sam).get("tiers-payant/")
    assert answer.status_code == 200
    report = {row["insurer_code"]: row for row in answer.json()}
    assert set(report) == {CPAM, "amc:12345678"}
    cpam = report[CPAM]
    assert Decimal(cpam["total"]) == amo(old) + amo(new)
    assert Decimal(cpam["buckets"]["61-90"]) == amo(old)
    assert {r["patient_id"] for r in cpam["receivables"]} == {world.paul.pk}
    reads = AuditEvent.objects.filter(action="patient.read", actor_id=world.sam.pk)
    assert reads.count() == 1
    other = TokenApi(world, world.charlie, world.practice_b).get("tiers-payant/")
    assert other.status_code == 200 and other.json() == []
