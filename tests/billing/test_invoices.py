"""Invoices: acts checked against dated rules, gapless numbers, immutability in the
database, credit notes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from billing.models import Invoice, InvoiceLine, Issuer
from billing.pricing import Coverage
from billing.services import LineInput, credit_note_issue, invoice_draft, invoice_issue
from tests.fixtures import World

DAY = date(2025, 3, 10)


def draft(
    world: World,
    issuer: Issuer,
    *lines: LineInput,
    day: date = DAY,
    birth: date | None = None,
    coverage: Coverage | None = None,
) -> Invoice:
    return invoice_draft(
        actor=world.actor(world.alice),
        issuer=issuer,
        patient_id=world.paul.pk,
        birth_date=birth or world.paul.birth_date,
        service_date=day,
        lines=list(lines),
        coverage=coverage or Coverage(has_complementary=True),
    )


def errors_of(call) -> list[str]:
    with pytest.raises(ValidationError) as error:
        call()
    return [message for messages in error.value.message_dict.values() for message in messages]


def test_a_consultation_is_priced_with_the_tariff_of_the_day(
    billing_world: World, alice_issuer: Issuer
) -> None:
    invoice = draft(billing_world, alice_issuer, LineInput("G"))
    assert (invoice.total, invoice.amo_amount, invoice.amc_amount) == (
        Decimal("30.00"),
        Decimal("19.00"),
        Decimal("9.00"),
    )
    older = draft(billing_world, alice_issuer, LineInput("G"), day=date(2024, 6, 1))
    assert older.total == Decimal("26.50")


def test_an_unknown_or_expired_code_is_refused(billing_world: World, alice_issuer: Issuer) -> None:
    assert "XYZ" in " ".join(
        errors_of(lambda: draft(billing_world, alice_issuer, LineInput("XYZ")))
    )
    # MEG is in the fee file from 22 December 2024 only.
    messages = errors_of(
        lambda: draft(
            billing_world,
            alice_issuer,
            LineInput("G"),
            LineInput("MEG"),
            day=date(2024, 6, 1),
            birth=date(2022, 1, 1),
        )
    )
    assert any("MEG" in m for m in messages)
    assert not Invoice.objects.exists()


def test_combination_rules_apply(billing_world: World, alice_issuer: Issuer) -> None:
    """Each refusal is the rule's own, named (any other error would not do)."""
    child = date(2022, 1, 1)
    alone = errors_of(lambda: draft(billing_world, alice_issuer, LineInput("MEG"), birth=child))
    assert [m for m in alone if m.startswith("MEG") and " G" in m and "," in m], alone
    both = errors_of(lambda: draft(billing_world, alice_issuer, LineInput("G"), LineInput("VG")))
    # "G cannot be billed with VG." (or the other way round), and nothing else
    assert len(both) == 1, both
    assert {both[0].split()[0], both[0].rstrip(".").split()[-1]} == {"G", "VG"}, both
    adult = errors_of(lambda: draft(billing_world, alice_issuer, LineInput("G"), LineInput("MEG")))
    assert len(adult) == 1 and adult[0].startswith("MEG") and "6" in adult[0], adult
    ok = draft(billing_world, alice_issuer, LineInput("G"), LineInput("MEG"), birth=child)
    assert ok.total == Decimal("35.00") and ok.patient_contribution == Decimal("0.00")  # a minor


def test_excess_fees_depend_on_the_sector(billing_world: World, alice_issuer: Issuer) -> None:
    messages = errors_of(
        lambda: draft(billing_world, alice_issuer, LineInput("G", excess=Decimal("10")))
    )
    assert any("DE" in m for m in messages)
    with_de = draft(
        billing_world, alice_issuer, LineInput("G"), LineInput("DE", excess=Decimal("10"))
    )
    assert with_de.total == Decimal("40.00")
    Issuer.objects.filter(pk=alice_issuer.pk).update(sector="2")
    alice_issuer.refresh_from_db()
    assert errors_of(
        lambda: draft(billing_world, alice_issuer, LineInput("G", excess=Decimal("10")))
    )
    sector_2 = draft(billing_world, alice_issuer, LineInput("C", excess=Decimal("17")))
    assert sector_2.total == Decimal("40.00")


def test_negative_amounts_and_future_dates_are_refused(
    billing_world: World, alice_issuer: Issuer
) -> None:
    assert errors_of(
        lambda: draft(
            billing_world, alice_issuer, LineInput("DE", excess=Decimal("-5")), LineInput("G")
        )
    )
    assert errors_of(
        lambda: draft(billing_world, alice_issuer, LineInput("G"), day=date(2999, 1, 1))
    )
    assert not Invoice.objects.exists()


def test_numbers_are_contiguous_per_issuer(billing_world: World, alice_issuer: Issuer) -> None:
    actor = billing_world.actor(billing_world.alice)
    numbers = [
        invoice_issue(
            actor=actor, invoice=draft(billing_world, alice_issuer, LineInput("G"))
        ).number
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]
    bob_issuer = Issuer.objects.create(
        kind="practitioner", person=billing_world.bob, name="Bob", sector="1", prefix="B-"
    )
    assert (
        invoice_issue(actor=actor, invoice=draft(billing_world, bob_issuer, LineInput("G"))).number
        == 1
    )


def raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_issued_invoice_refuses_a_raw_update_or_delete(
    billing_world: World, alice_issuer: Issuer
) -> None:
    actor = billing_world.actor(billing_world.alice)
    invoice = invoice_issue(actor=actor, invoice=draft(billing_world, alice_issuer, LineInput("G")))
    for sql in (
        "UPDATE billing_invoice SET total = 1 WHERE id = %s",
        "UPDATE billing_invoice SET note = 'x' WHERE id = %s",
        "DELETE FROM billing_invoice WHERE id = %s",
        "UPDATE billing_invoiceline SET charged_amount = 1 WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
    ):
        with pytest.raises(IntegrityError, match="cannot be changed"):
            raw(sql, [invoice.pk])
    invoice.refresh_from_db()
    assert invoice.total == Decimal("30.00")


def test_a_draft_can_still_be_changed(billing_world: World, alice_issuer: Issuer) -> None:
    invoice = draft(billing_world, alice_issuer, LineInput("G"))
    raw("UPDATE billing_invoice SET note = 'x' WHERE id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert invoice.note == "x"  # the immutability trigger lets a draft change


def test_a_credit_note_cancels_an_invoice(billing_world: World, alice_issuer: Issuer) -> None:
    actor = billing_world.actor(billing_world.alice)
    invoice = invoice_issue(actor=actor, invoice=draft(billing_world, alice_issuer, LineInput("G")))
    note = credit_note_issue(actor=actor, invoice=invoice, reason="Erreur de patient")
    assert (note.kind, note.number, note.total, note.credited_invoice_id) == (
        "credit_note",
        2,
        Decimal("30.00"),
        invoice.pk,
    )
    assert InvoiceLine.objects.filter(invoice=note).count() == 1
    with pytest.raises(ValidationError):
        credit_note_issue(actor=actor, invoice=invoice, reason="encore")
