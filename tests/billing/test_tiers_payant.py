"""Tiers payant: the insurers' shares are receivables per insurer (from the cover in
force on the date of care), aged; an insurer's transfer settles many invoices at once,
idempotent, never more than owed; a rejection keeps the share open; the patient's
share at the desk is untouched."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Invoice, Issuer, Payment
from billing.pricing import Coverage
from billing.selectors import patient_statement
from billing.selectors.receivables import aging_report, bucket_of, receivables
from billing.services import (
    CoverInput,
    LineInput,
    cover_record,
    insurer_payment_record,
    invoice_draft,
    invoice_issue,
    payment_record,
    rejection_note,
)
from core.audit.models import AuditEvent
from tests.fixtures import World

CPAM = "amo:691"
MUTUELLE = "amc:12345678"


def amo(invoice: Invoice) -> Decimal:
    """What the caisse owes in tiers payant: its share and the flat contribution."""
    return invoice.amo_amount + invoice.patient_contribution


def covered(world: World, since: date, caisse: str = "691", name: str = "CPAM du Rhône") -> None:
    cover_record(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        values=CoverInput(
            regime="01",
            caisse_code=caisse,
            caisse_name=name,
            rights_from=since,
            amc_name="Mutuelle des Lilas",
            amc_number="12345678",
        ),
    )


def issued(world: World, issuer: Issuer, day: date, amc: bool = True) -> Invoice:
    actor = world.actor(world.alice)
    draft = invoice_draft(
        actor=actor,
        issuer=issuer,
        patient_id=world.paul.pk,
        birth_date=world.paul.birth_date,
        service_date=day,
        lines=[LineInput("G")],
        coverage=Coverage(has_complementary=True, third_party_amo=True, third_party_amc=amc),
    )
    return invoice_issue(actor=actor, invoice=draft)


@pytest.fixture
def two_invoices(billing_world: World, alice_issuer: Issuer) -> tuple[Invoice, Invoice]:
    today = timezone.localdate()
    covered(billing_world, today - timedelta(days=400))
    return (
        issued(billing_world, alice_issuer, today - timedelta(days=45)),
        issued(billing_world, alice_issuer, today - timedelta(days=5), amc=False),
    )


def transfer(world: World, amount: str, shares: dict[int, str], key: str = "t1", **more):  # type: ignore[no-untyped-def]
    return insurer_payment_record(
        actor=world.actor(world.sam),
        insurer_code=more.get("insurer", CPAM),
        paid_on=timezone.localdate(),
        amount=Decimal(amount),
        reference=more.get("reference", "DECOMPTE-2026-118"),
        allocations={pk: Decimal(value) for pk, value in shares.items()},
        idempotency_key=key,
    )


@pytest.mark.parametrize(
    ("age", "bucket"), [(0, "0-30"), (30, "0-30"), (31, "31-60"), (61, "61-90"), (91, "90+")]
)
def test_the_age_buckets(age: int, bucket: str) -> None:
    assert bucket_of(age) == bucket


def test_each_share_is_owed_by_the_insurer_of_the_cover_on_the_date_of_care(
    billing_world: World, alice_issuer: Issuer
) -> None:
    today = timezone.localdate()
    covered(billing_world, today - timedelta(days=400), caisse="751", name="CPAM de Paris")
    old = issued(billing_world, alice_issuer, today - timedelta(days=100))
    covered(billing_world, today - timedelta(days=20))  # moved to Lyon since
    new = issued(billing_world, alice_issuer, today - timedelta(days=2))
    owed = {(r.invoice.pk, r.insurer_code): r.due for r in receivables(today)}
    assert owed == {
        (old.pk, "amo:751"): amo(old),
        (old.pk, MUTUELLE): old.amc_amount,
        (new.pk, CPAM): amo(new),
        (new.pk, MUTUELLE): new.amc_amount,
    }
    report = {aging.insurer_code: aging.buckets for aging in aging_report(today)}
    assert report["amo:751"]["90+"] == amo(old)
    assert report[CPAM]["0-30"] == amo(new)
    assert report[MUTUELLE]["0-30"] + report[MUTUELLE]["90+"] == old.amc_amount + new.amc_amount


def test_an_invoice_without_tiers_payant_owes_nothing_to_insurers(
    billing_world: World, invoice_without_third_party: Invoice
) -> None:
    assert receivables(timezone.localdate()) == []


@pytest.fixture
def invoice_without_third_party(billing_world: World, alice_issuer: Issuer) -> Invoice:
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


def test_one_transfer_settles_many_invoices_and_leaves_the_patient_share_alone(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    first, second = two_invoices
    assert amo(first) == Decimal("21.00")  # 70 % of G, the flat contribution included
    desk_before = patient_statement(billing_world.paul.pk).balance
    result = transfer(
        billing_world, "50.00", {first.pk: str(amo(first)), second.pk: str(amo(second))}
    )
    assert result.allocated == amo(first) + amo(second)
    assert result.unallocated == Decimal("50.00") - result.allocated
    assert result.payment.payer == "amo" and result.payment.insurer_name == "CPAM du Rhône"
    assert [r.insurer_code for r in receivables(timezone.localdate())] == [MUTUELLE]
    assert patient_statement(billing_world.paul.pk).balance == desk_before
    assert AuditEvent.objects.filter(action="payment.insurer_record").count() == 2


def test_the_patient_paying_at_the_desk_does_not_settle_the_insurer(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    _first, second = two_invoices  # the mutuelle's share is paid at the desk
    assert second.due_at_desk > 0
    payment_record(
        actor=billing_world.actor(billing_world.sam),
        invoice=second,
        method="cash",
        amount=second.due_at_desk,
        idempotency_key="desk",
    )
    owed = {(r.invoice.pk, r.payer): r.due for r in receivables(timezone.localdate())}
    assert owed[(second.pk, "amo")] == amo(second)


def test_a_double_submission_records_the_transfer_once(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    first, _second = two_invoices
    one = transfer(billing_world, "10.00", {first.pk: "10.00"}, key="same")
    two = transfer(billing_world, "10.00", {first.pk: "10.00"}, key="same")
    assert one.payment.pk == two.payment.pk
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "shares", "field"),
    [
        ("10.00", {"first": "10.01"}, "allocations"),  # more than the payment
        ("100.00", {"first": "100.00"}, "allocations"),  # more than owed
        ("10.00", {"second_amc": "5.00"}, "insurer"),  # a share this insurer does not owe
        ("0", {}, "amount"),
        ("10.001", {}, "amount"),
    ],
)
def test_a_bad_transfer_is_refused_and_nothing_is_written(
    billing_world: World,
    two_invoices: tuple[Invoice, Invoice],
    amount: str,
    shares: dict[str, str],
    field: str,
) -> None:
    first, second = two_invoices
    ids = {"first": first.pk, "second_amc": second.pk}
    insurer = MUTUELLE if "second_amc" in shares else CPAM
    with pytest.raises(ValidationError) as error:
        transfer(billing_world, amount, {ids[k]: v for k, v in shares.items()}, insurer=insurer)
    assert set(error.value.message_dict) == {"allocations" if field == "insurer" else field}
    assert not Payment.objects.exists()


def test_a_transfer_needs_its_statement_reference(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    with pytest.raises(ValidationError) as error:
        transfer(billing_world, "10.00", {}, reference="  ")
    assert "reference" in error.value.message_dict
    assert not Payment.objects.exists()


def test_a_rejection_keeps_the_share_open_with_its_reason(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    first, _second = two_invoices
    rejection_note(
        actor=billing_world.actor(billing_world.sam),
        invoice=first,
        payer="amo",
        reason="Droits non ouverts à la date des soins",
    )
    (share,) = [
        r
        for r in receivables(timezone.localdate())
        if r.invoice.pk == first.pk and r.payer == "amo"
    ]
    assert share.due == amo(first)
    assert [r.reason for r in share.rejections] == ["Droits non ouverts à la date des soins"]
    assert AuditEvent.objects.filter(action="invoice.rejection_note").count() == 1


def test_a_rejection_without_reason_or_on_a_share_not_in_tiers_payant_is_refused(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    first, second = two_invoices
    actor = billing_world.actor(billing_world.sam)
    with pytest.raises(ValidationError) as error:
        rejection_note(actor=actor, invoice=first, payer="amo", reason=" ")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        rejection_note(actor=actor, invoice=second, payer="amc", reason="Rejet")
    assert "payer" in error.value.message_dict


def test_another_practice_sees_no_receivable(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    billing_world.actor(billing_world.charlie, billing_world.practice_b)
    assert receivables(timezone.localdate()) == []


def test_a_transfer_from_an_insurer_owing_nothing_is_refused(
    billing_world: World, two_invoices: tuple[Invoice, Invoice]
) -> None:
    for insurer in ("amo:999", "amo:", "xyz:691"):
        with pytest.raises(ValidationError) as error:
            transfer(billing_world, "10.00", {}, insurer=insurer)
        assert "insurer" in error.value.message_dict, insurer
    assert not Payment.objects.exists()
