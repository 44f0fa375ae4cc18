"""Closing the day deliberately: the page shows the totals by method and each payee's
cheques, and closes only once confirmed; one deposit slip per payee, holding only their
cheques and the account they are paid into; the account set by the practitioner (or an
administrator), the IBAN checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from billing import services
from billing.models import CashDay, ChequeDeposit, Issuer
from billing.pricing import Coverage
from core import tenancy
from core.audit.models import AuditEvent
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

ALICE_IBAN = "FR7630006000011234567890189"
ALICE_PRINTED = "FR76 3000 6000 0112 3456 7890 189"


def paid_by_cheque(world: World, practitioner, number: str, amount: str) -> None:  # type: ignore[no-untyped-def]
    """An invoice of this practitioner for Paul, paid by one cheque at the desk."""
    actor = world.actor(world.sam)
    from django.utils import timezone

    invoice = services.invoice_draft(
        actor=actor,
        issuer=services.issuer_for(practitioner),
        patient_id=world.paul.pk,
        birth_date=world.paul.birth_date,
        service_date=timezone.localdate(),
        lines=[services.LineInput(code="G")],
        coverage=Coverage(has_complementary=False),
    )
    invoice = services.invoice_issue(actor=actor, invoice=invoice)
    services.payment_record(
        actor=actor,
        invoice=invoice,
        method="cheque",
        amount=Decimal(amount),
        idempotency_key=f"key-{number}",
        cheque_number=number,
        cheque_bank="Banque Postale",
    )
    tenancy.activate(None)


@pytest.fixture
def day_with_two_payees(billing_world: World) -> World:
    paid_by_cheque(billing_world, billing_world.alice, "1111111", "30.00")
    paid_by_cheque(billing_world, billing_world.bob, "2222222", "25.00")
    return billing_world


def test_closing_shows_the_totals_and_asks_for_confirmation(
    client: Client, day_with_two_payees: World
) -> None:
    world = day_with_two_payees
    slug = world.practice_a.slug
    sam = login(client, world.sam)
    journal = sam.get(f"/p/{slug}/caisse/").content.decode()
    assert f'href="/p/{slug}/caisse/cloturer/' in journal  # a link to the confirmation
    page = sam.get(f"/p/{slug}/caisse/cloturer/", HTTP_ACCEPT_LANGUAGE="fr")
    text = page.content.decode()
    assert page.status_code == 200
    assert "55,00\u00a0€" in text and "30,00\u00a0€" in text and "25,00\u00a0€" in text
    assert "ne peut pas être annulée" in text
    assert not CashDay.objects.filter(closed_at__isnull=False).exists()
    unconfirmed = sam.post(f"/p/{slug}/caisse/cloturer/", HTTP_ACCEPT_LANGUAGE="en")
    assert unconfirmed.status_code == 400 and 'role="alert"' in unconfirmed.content.decode()
    assert not CashDay.objects.filter(closed_at__isnull=False).exists()
    done = sam.post(f"/p/{slug}/caisse/cloturer/", {"confirm": "on"})
    assert done.status_code == 302
    assert CashDay.objects.get().is_closed
    again = sam.get(f"/p/{slug}/caisse/cloturer/").content.decode()
    assert 'data-testid="day-closed"' in again and 'name="confirm"' not in again


def test_one_deposit_slip_per_payee_with_only_their_cheques_and_their_account(
    client: Client, day_with_two_payees: World
) -> None:
    world = day_with_two_payees
    slug = world.practice_a.slug
    alice = login(client, world.alice)
    bad = alice.post(
        f"/p/{slug}/caisse/compte-bancaire/{world.alice.pk}/",
        {"bank_name": "Crédit Lyonnais", "iban": "FR76 3000 6000 0112 3456 7890 188"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert bad.status_code == 400 and "IBAN n&#x27;est pas valide" in bad.content.decode()
    assert Issuer.objects.get(person=world.alice).iban == ""
    saved = alice.post(
        f"/p/{slug}/caisse/compte-bancaire/{world.alice.pk}/",
        {"bank_name": "Crédit Lyonnais", "iban": ALICE_PRINTED.lower()},
    )
    assert saved.status_code == 302
    assert Issuer.objects.get(person=world.alice).iban == ALICE_IBAN
    assert AuditEvent.objects.filter(action="issuer.bank_details").count() == 1
    client.logout()
    sam = login(client, world.sam)
    assert sam.post(f"/p/{slug}/caisse/cloturer/", {"confirm": "on"}).status_code == 302
    deposits = ChequeDeposit.objects.order_by("payee")
    assert [(d.payee, d.iban, d.cheques.count()) for d in deposits] == [
        (world.alice.full_name, ALICE_IBAN, 1),
        (world.bob.full_name, "", 1),
    ]
    alice_issuer = Issuer.objects.get(person=world.alice)
    slip = sam.get(f"/p/{slug}/caisse/bordereau.pdf?emetteur={alice_issuer.pk}")
    text = pdf_text(slip.content)
    assert "1111111" in text and ALICE_PRINTED in text and world.alice.full_name in text
    assert "2222222" not in text and world.bob.full_name not in text
    both = pdf_text(sam.get(f"/p/{slug}/caisse/bordereau.pdf").content)
    assert "1111111" in both and "2222222" in both and "non renseigné" in both
    # The account printed is the one of the day it was closed, whatever comes after.
    tenancy.activate(world.practice_a.pk)
    Issuer.objects.filter(pk=alice_issuer.pk).update(iban="DE89370400440532013000")
    later = pdf_text(sam.get(f"/p/{slug}/caisse/bordereau.pdf?emetteur={alice_issuer.pk}").content)
    assert ALICE_PRINTED in later
    assert sam.get(f"/p/{slug}/caisse/bordereau.pdf?emetteur=999999").status_code == 404


def test_only_the_practitioner_or_an_administrator_sets_the_account(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    slug = world.practice_a.slug
    tenancy.activate(world.practice_a.pk)
    admin = PersonFactory(username="pia", full_name="Pia Perrin")
    MembershipFactory(practice=world.practice_a, person=admin, role="practice_admin")
    tenancy.activate(None)
    url = f"/p/{slug}/caisse/compte-bancaire/{world.alice.pk}/"
    body = {"bank_name": "CL", "iban": ALICE_IBAN}
    for person in (world.bob, world.sam):  # another practitioner, a secretary
        refused = login(Client(), person).post(url, body)
        assert refused.status_code == 403, person
    assert login(Client(), world.charlie).get(url).status_code in (403, 404)  # other practice
    assert Issuer.objects.filter(iban=ALICE_IBAN).count() == 0
    assert login(Client(), admin).post(url, body).status_code == 302
    assert Issuer.objects.get(person=world.alice).iban == ALICE_IBAN
    assert (
        login(Client(), world.alice)
        .get(f"/p/{slug}/caisse/compte-bancaire/{world.sam.pk}/")
        .status_code
        == 404
    )
