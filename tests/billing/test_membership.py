"""A member practice's account with the cooperative: its administrators read their plan,
shares, dues per period with their invoices, the payments received and what is late; a
cooperative administrator records a payment received (a transfer, a cheque) and the dues
are paid. Dues invoices only: no patient's invoice or data on either page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from billing.models import DuesPayment, Invoice
from billing.selectors.membership import dues_account
from core import tenancy
from core.accounts.models import Membership, Person
from core.practices.models import CooperativeMembership
from tests.factories import PersonFactory
from tests.fixtures import World
from tests.records.test_views import login


@pytest.fixture
def dues(billing_world: World) -> World:
    """Practice A (Alice, Bob: 2 practitioners) and B are invoiced this month's dues; Sam
    is also practice A's administrator; Colette runs the cooperative."""
    PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)
    CooperativeMembership.objects.filter(practice=billing_world.practice_a).update(shares=3)
    call_command(
        "invoice_dues", "--month", timezone.localdate().strftime("%Y-%m"), "--by", "colette"
    )
    tenancy.activate(billing_world.practice_a.pk)
    Membership.objects.create(
        practice=billing_world.practice_a, person=billing_world.sam, role="practice_admin"
    )
    tenancy.activate(None)
    return billing_world


def colette() -> Person:
    return Person.objects.get(username="colette")


def member_page(world: World) -> str:
    return f"/cooperative/adherents/{world.practice_a.pk}/"


def the_dues_of(practice_id: int) -> Invoice:
    with tenancy.practice_context(practice_id):
        return Invoice.objects.filter(kind="dues").latest("pk")


def the_dues(world: World) -> Invoice:
    return the_dues_of(world.practice_a.pk)


def test_the_practice_admin_sees_shares_and_dues_to_pay(dues: World) -> None:
    page = login(Client(), dues.sam).get(
        f"/p/{dues.practice_a.slug}/adhesion/", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Adhésion à la coopérative" in html and "Parts sociales souscrites" in html
    assert 'data-testid="shares">3<' in html
    # Numbers come from the cooperative's series (issued invoices are never deleted, so
    # the series goes on from whatever earlier tests issued): read them, not assume them.
    own, other = the_dues(dues).reference, the_dues_of(dues.practice_b.pk).reference
    assert own in html and "50,00 €" in html and "À payer" in html
    assert other not in html  # practice B's dues
    assert "Aucun règlement enregistré." in html


def test_only_the_practice_admins_see_the_membership(dues: World) -> None:
    for person in (dues.alice, dues.bob, dues.charlie, colette()):
        response = login(Client(), person).get(f"/p/{dues.practice_a.slug}/adhesion/")
        assert response.status_code == 403, person.username


def test_a_payment_recorded_makes_the_dues_paid(dues: World) -> None:
    invoice = the_dues(dues)
    coop = login(Client(), colette())
    page = coop.get(member_page(dues), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert invoice.reference in page and "Enregistrer un règlement reçu" in page
    key = page.split('name="key" value="')[1].split('"')[0]
    form = {
        "invoice": invoice.pk,
        "method": "transfer",
        "amount": "20.00",
        "paid_on": timezone.localdate().isoformat(),
        "reference": "VIR-2026-118",
        "key": key,
    }
    assert coop.post(member_page(dues) + "paiement/", form).status_code == 302
    # The same form again (a double click): nothing more is recorded.
    assert coop.post(member_page(dues) + "paiement/", form).status_code == 302
    with tenancy.practice_context(dues.practice_a.pk):
        assert DuesPayment.objects.count() == 1
        assert dues_account(dues.practice_a.pk).remaining == Decimal("30.00")
    rest = dict(form, amount="30.00", method="cheque", reference="1234567", key="second")
    assert coop.post(member_page(dues) + "paiement/", rest).status_code == 302
    with tenancy.practice_context(dues.practice_a.pk):
        account = dues_account(dues.practice_a.pk)
    assert account.rows[0].is_paid and account.remaining == Decimal("0.00")
    html = (
        login(Client(), dues.sam)
        .get(f"/p/{dues.practice_a.slug}/adhesion/", HTTP_ACCEPT_LANGUAGE="fr")
        .content.decode()
    )
    assert "VIR-2026-118" in html and "Chèque" in html and ">Payé<" in html


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "50.01"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"reference": ""}, "reference"),
        ({"method": "cash"}, "method"),
        ({"paid_on": "2999-01-01"}, "paid_on"),
        ({"invoice": "999999"}, "invoice"),
    ],
)
def test_a_wrong_payment_says_why_and_records_nothing(
    dues: World, changes: dict[str, str], field: str
) -> None:
    invoice = the_dues(dues)
    form = {
        "invoice": invoice.pk,
        "method": "transfer",
        "amount": "50.00",
        "paid_on": timezone.localdate().isoformat(),
        "reference": "VIR-1",
        "key": "k1",
        **changes,
    }
    response = login(Client(), colette()).post(
        member_page(dues) + "paiement/", form, HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    with tenancy.practice_context(dues.practice_a.pk):
        assert not DuesPayment.objects.exists()


def test_dues_unpaid_after_their_term_are_late(dues: World) -> None:
    with tenancy.practice_context(dues.practice_a.pk):
        later = dues_account(dues.practice_a.pk, today=timezone.localdate() + timedelta(days=45))
        now = dues_account(dues.practice_a.pk)
    assert later.rows[0].late and later.late == Decimal("50.00")
    assert not now.rows[0].late and now.late == Decimal("0.00")


def test_nobody_else_reads_a_member_s_dues_or_records_a_payment(dues: World) -> None:
    invoice = the_dues(dues)
    for person in (dues.sam, dues.alice, dues.charlie):
        client = login(Client(), person)
        assert client.get(member_page(dues)).status_code == 403
        response = client.post(
            member_page(dues) + "paiement/",
            {"invoice": invoice.pk, "method": "transfer", "amount": "50", "key": "x"},
        )
        assert response.status_code == 403
    with tenancy.practice_context(dues.practice_a.pk):
        assert not DuesPayment.objects.exists()


def test_the_cooperative_admin_sees_no_patient(dues: World) -> None:
    page = login(Client(), colette()).get(member_page(dues)).content.decode()
    assert "Dupont" not in page and "Paul" not in page
    assert "Cabinet A" in page


def test_the_cooperative_admin_sees_every_member_s_dues_and_goes_to_one(dues: World) -> None:
    coop = login(Client(), colette())
    page = coop.get("/cooperative/cotisations/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Cotisations et règlements des adhérents" in page
    assert "Cabinet A" in page and "Cabinet B" in page and "50,00 €" in page
    assert member_page(dues) in page
    for person in (dues.sam, dues.alice):
        assert login(Client(), person).get("/cooperative/cotisations/").status_code == 403


def test_the_payment_form_proposes_the_oldest_dues_in_full_today(dues: World) -> None:
    page = login(Client(), colette()).get(member_page(dues), HTTP_ACCEPT_LANGUAGE="fr")
    form = page.context["form"]
    html = page.content.decode()
    assert form["amount"].value() == Decimal("50.00")
    assert f'value="{timezone.localdate().isoformat()}"' in html  # a date field's own format


def test_the_cooperative_records_the_shares_paid_up(dues: World) -> None:
    coop = login(Client(), colette())
    url = member_page(dues) + "parts/"
    too_many = coop.post(url, {"shares_paid": "4"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert too_many.status_code == 400
    assert "Entre 0 et les 3 parts sociales souscrites." in too_many.content.decode()
    assert coop.post(url, {"shares_paid": "2"}).status_code == 302
    membership = CooperativeMembership.objects.get(practice=dues.practice_a)
    assert membership.shares_paid == 2
    for person in (dues.sam, dues.alice):
        assert login(Client(), person).post(url, {"shares_paid": "3"}).status_code == 403
    membership.refresh_from_db()
    assert membership.shares_paid == 2
