"""Payments and the cash day: partial payments, idempotency, overpayment, closing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing.models import CashDay, ChequeDeposit, Invoice, Issuer, Payment
from billing.pricing import Coverage
from billing.selectors import cash_journal, patient_statement
from billing.services import LineInput, day_close, invoice_draft, invoice_issue, payment_record
from tests.fixtures import World


@pytest.fixture
def invoice(billing_world: World, alice_issuer: Issuer) -> Invoice:
    actor = billing_world.actor(billing_world.alice)
    draft = invoice_draft(
        actor=actor,
        issuer=alice_issuer,
        patient_id=billing_world.paul.pk,
        birth_date=billing_world.paul.birth_date,
        service_date=timezone.localdate(),
        lines=[LineInput("G")],
        coverage=Coverage(has_complementary=True),
    )
    return invoice_issue(actor=actor, invoice=draft)


def pay(world: World, invoice: Invoice, amount: str, key: str, method: str = "cheque") -> Payment:
    return payment_record(
        actor=world.actor(world.sam),
        invoice=invoice,
        method=method,
        amount=Decimal(amount),
        idempotency_key=key,
        cheque_number="1234567",
    )


def test_a_partial_cheque_then_the_rest(billing_world: World, invoice: Invoice) -> None:
    pay(billing_world, invoice, "20.00", "k1")
    assert patient_statement(billing_world.paul.pk).balance == Decimal("10.00")
    pay(billing_world, invoice, "10.00", "k2", method="cash")
    assert patient_statement(billing_world.paul.pk).balance == Decimal("0.00")
    journal = cash_journal(timezone.localdate())
    assert (journal.totals["cheque"], journal.totals["cash"], journal.totals["total"]) == (
        Decimal("20.00"),
        Decimal("10.00"),
        Decimal("30.00"),
    )


def test_a_double_submission_pays_once(billing_world: World, invoice: Invoice) -> None:
    first = pay(billing_world, invoice, "20.00", "same-key")
    second = pay(billing_world, invoice, "20.00", "same-key")
    assert first.pk == second.pk
    assert Payment.objects.count() == 1


def test_an_overpayment_is_refused_and_nothing_is_written(
    billing_world: World, invoice: Invoice
) -> None:
    with pytest.raises(ValidationError) as error:
        pay(billing_world, invoice, "30.01", "k1")
    assert "amount" in error.value.message_dict
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-5", "10.001"])
def test_a_bad_amount_is_refused(billing_world: World, invoice: Invoice, amount: str) -> None:
    with pytest.raises(ValidationError):
        pay(billing_world, invoice, amount, "k1")
    assert not Payment.objects.exists()


def test_a_cheque_needs_its_number(billing_world: World, invoice: Invoice) -> None:
    with pytest.raises(ValidationError):
        payment_record(
            actor=billing_world.actor(billing_world.sam),
            invoice=invoice,
            method="cheque",
            amount=Decimal("5"),
            idempotency_key="k",
        )


def test_closing_the_day_freezes_it_in_the_database(billing_world: World, invoice: Invoice) -> None:
    payment = pay(billing_world, invoice, "20.00", "k1")
    closed = day_close(actor=billing_world.actor(billing_world.sam), day=timezone.localdate())
    assert closed.totals["cheque"] == "20.00" and closed.totals["total"] == "20.00"
    deposit = ChequeDeposit.objects.get()
    assert list(deposit.cheques.all()) == [payment]
    for sql, params in (
        ("UPDATE billing_payment SET amount = 1 WHERE id = %s", [payment.pk]),
        ("DELETE FROM billing_payment WHERE id = %s", [payment.pk]),
        ("UPDATE billing_cashday SET totals = '{}' WHERE id = %s", [closed.pk]),
        ("DELETE FROM billing_allocation WHERE payment_id = %s", [payment.pk]),
    ):
        with (
            pytest.raises(IntegrityError, match="closed"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    # And no more payments today.
    with pytest.raises(ValidationError):
        pay(billing_world, invoice, "10.00", "k2", method="cash")


def test_a_closed_day_cannot_be_closed_again_nor_a_future_one(billing_world: World) -> None:
    actor = billing_world.actor(billing_world.sam)
    day_close(actor=actor, day=date(2025, 1, 6))
    with pytest.raises(ValidationError):
        day_close(actor=actor, day=date(2025, 1, 6))
    with pytest.raises(ValidationError):
        day_close(actor=actor, day=date(2999, 1, 1))
    assert CashDay.objects.get(day=date(2025, 1, 6)).is_closed


def test_the_invoice_page_starts_in_its_payment(billing_world: World, invoice: Invoice) -> None:
    """Money still due: the cursor is in the payment's first field, not 13 Tabs away."""
    from django.test import Client

    from tests.core.test_form_focus import focused
    from tests.records.test_views import login

    slug = billing_world.practice_a.slug
    page = login(Client(), billing_world.sam).get(f"/p/{slug}/factures/{invoice.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    payment_form = html.split('<form method="post" novalidate>', 1)[1].split("</form>", 1)[0]
    assert len(focused(html)) == 1 and focused(payment_form) == focused(html)
