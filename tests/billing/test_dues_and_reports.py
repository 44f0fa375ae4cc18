"""The cooperative's dues with the same engine, and the "data entry is care work" report."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from billing.models import Invoice
from billing.pricing import Coverage
from billing.reports import care_work
from billing.services import LineInput, dues_issue, invoice_draft, invoice_issue, issuer_for
from core import tenancy
from core.access.policy import Actor
from core.accounts.models import Membership
from records import services as records
from records.access import access_for
from tests.factories import PersonFactory
from tests.fixtures import World
from tests.records.test_views import login

MONTH = date(2026, 3, 1)


def test_dues_are_per_practitioner_numbered_and_frozen(billing_world: World) -> None:
    admin = PersonFactory(username="coop", is_cooperative_admin=True)
    actor = Actor(person_id=admin.pk, practice_id=None, is_cooperative_admin=True, label="coop")
    tenancy.activate(billing_world.practice_a.pk)
    invoice = dues_issue(actor=actor, practice_id=billing_world.practice_a.pk, month=MONTH)
    # Practice A has two practitioners (Alice, Bob) at 25 € each.
    assert (invoice.kind, invoice.total, invoice.number) == ("dues", Decimal("50.00"), 1)
    with pytest.raises(ValidationError):
        dues_issue(actor=actor, practice_id=billing_world.practice_a.pk, month=MONTH)
    tenancy.activate(billing_world.practice_b.pk)
    other = dues_issue(actor=actor, practice_id=billing_world.practice_b.pk, month=MONTH)
    assert (other.total, other.number) == (Decimal("25.00"), 2)  # one series for the cooperative
    # Each practice sees only its own.
    assert list(Invoice.objects.values_list("pk", flat=True)) == [other.pk]


def test_the_command_invoices_every_member(billing_world: World, capsys) -> None:
    PersonFactory(username="coop", is_cooperative_admin=True)
    call_command("invoice_dues", "--month", "2026-03", "--by", "coop")
    out = capsys.readouterr().out
    assert "cabinet-a: COOP-000001 50.00 €" in out and "cabinet-b: COOP-000002 25.00 €" in out


def test_a_practice_admin_sees_its_dues_others_do_not(client: Client, billing_world: World) -> None:
    PersonFactory(username="coop", is_cooperative_admin=True)
    call_command("invoice_dues", "--month", "2026-03", "--by", "coop")
    tenancy.activate(billing_world.practice_a.pk)
    Membership.objects.create(
        practice=billing_world.practice_a, person=billing_world.sam, role="practice_admin"
    )
    sam = login(client, billing_world.sam)
    page = sam.get(f"/p/{billing_world.practice_a.slug}/cotisations/").content.decode()
    assert "COOP-000001" in page and "COOP-000002" not in page
    alice = login(Client(), billing_world.alice)
    assert alice.get(f"/p/{billing_world.practice_a.slug}/cotisations/").status_code == 403


def test_the_care_work_report_sums_time_consultations_and_fees(billing_world: World) -> None:
    world = billing_world
    actor = world.actor(world.alice)
    for seconds in (300, 420):
        records.consultation_record(
            actor=actor,
            access=access_for(world.paul),
            reason="Suivi",
            documentation_seconds=seconds,
        )
    today = timezone.localdate()
    draft = invoice_draft(
        actor=actor,
        issuer=issuer_for(world.alice),
        patient_id=world.paul.pk,
        birth_date=world.paul.birth_date,
        service_date=today,
        lines=[LineInput("G")],
        coverage=Coverage(),
    )
    invoice_issue(actor=actor, invoice=draft)
    lines = {line.person.username: line for line in care_work(today)}
    alice = lines["alice"]
    assert (alice.consultations, alice.documentation_seconds, alice.fees) == (
        2,
        720,
        Decimal("30.00"),
    )
    assert alice.documentation_hours == "0 h 12" and alice.minutes_per_consultation == "6.0"
    assert care_work(today - timedelta(days=62)) == [] or "alice" not in {
        line.person.username for line in care_work(today - timedelta(days=62))
    }


def test_the_report_page_and_its_pdf(client: Client, billing_world: World) -> None:
    alice = login(client, billing_world.alice)
    assert alice.get(f"/p/{billing_world.practice_a.slug}/rapport/saisie/").status_code == 200
    pdf = alice.get(f"/p/{billing_world.practice_a.slug}/rapport/saisie/?format=pdf")
    assert pdf.content.startswith(b"%PDF")
    sam = login(Client(), billing_world.sam)
    assert sam.get(f"/p/{billing_world.practice_a.slug}/rapport/saisie/").status_code == 403
    fec = alice.get(f"/p/{billing_world.practice_a.slug}/export/fec/")
    assert fec.status_code == 200 and fec.content.startswith(b"JournalCode\tJournalLib")
