"""The cooperative's books, from its pages: a month's dues are shown member by member,
then issued once confirmed, in the cooperative's own gapless series (each member once);
its FEC holds the dues invoices and the payments received, passes the checks and its
totals match. Only a cooperative administrator does either."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from billing.fec import validate_fec
from billing.models import Invoice
from billing.services.dues import dues_payment_record
from core import tenancy
from core.accounts.selectors import actor_for
from tests.billing.test_membership import colette, dues  # noqa: F401 - the fixture
from tests.factories import PersonFactory
from tests.fixtures import World
from tests.records.test_views import login


def the_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def next_month() -> str:
    today = timezone.localdate().replace(day=1)
    return (
        today.replace(year=today.year + 1, month=1)
        if today.month == 12
        else today.replace(month=today.month + 1)
    ).strftime("%Y-%m")


def dues_of(practice_id: int) -> list[Invoice]:
    with tenancy.practice_context(practice_id):
        return list(Invoice.objects.filter(kind="dues").order_by("number"))


def test_a_months_dues_are_shown_then_issued_once_confirmed(billing_world: World) -> None:
    world = billing_world
    PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)
    client = login(Client(), colette())
    month = next_month()
    preview = client.get(
        f"/cooperative/cotisations/emettre/?mois={month}", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Cabinet A" in html and "Cabinet B" in html and "Émettre les cotisations" in html
    assert dues_of(world.practice_a.pk) == []  # nothing issued before confirming
    response = client.post("/cooperative/cotisations/emettre/", {"mois": month})
    assert response.status_code == 302
    a, b = dues_of(world.practice_a.pk), dues_of(world.practice_b.pk)
    assert len(a) == 1 and len(b) == 1
    # One series, no gap: the two invoices follow each other.
    assert sorted([a[0].number, b[0].number])[1] == sorted([a[0].number, b[0].number])[0] + 1
    assert a[0].total == Decimal("50.00")  # 2 practitioners
    # Confirming twice issues nothing more; the page says it is already invoiced.
    client.post("/cooperative/cotisations/emettre/", {"mois": month})
    assert len(dues_of(world.practice_a.pk)) == 1
    again = client.get(f"/cooperative/cotisations/emettre/?mois={month}", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Déjà facturée" in again.content.decode()


def test_a_bad_month_is_a_clear_error(billing_world: World) -> None:
    PersonFactory(username="colette", full_name="Colette Coop", is_cooperative_admin=True)
    client = login(Client(), colette())
    for address in (
        "/cooperative/cotisations/emettre/?mois=2026-13",
        "/cooperative/cotisations/fec/?mois=juin",
    ):
        response = client.get(address, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 400, address
        assert "Indiquez un mois" in response.content.decode()
    response = client.post("/cooperative/cotisations/emettre/", {"mois": "nope"})
    assert response.status_code == 400


def test_the_cooperative_fec_holds_its_dues_and_payments_and_passes_the_checks(
    dues: World,  # noqa: F811 - the fixture
) -> None:
    invoice_a = dues_of(dues.practice_a.pk)[-1]
    dues_payment_record(
        actor=actor_for(colette(), None),
        practice_id=dues.practice_a.pk,
        invoice_id=invoice_a.pk,
        method="transfer",
        amount=Decimal("30.00"),
        paid_on=timezone.localdate(),
        reference="VIR-123",
        idempotency_key=secrets.token_hex(8),
    )
    response = login(Client(), colette()).get(f"/cooperative/cotisations/fec/?mois={the_month()}")
    assert response.status_code == 200
    assert "FEC-cooperative-" in response["Content-Disposition"]
    text = response.content.decode()
    assert validate_fec(text) == []
    lines = [line.split("\t") for line in text.strip().splitlines()[1:]]
    header = text.splitlines()[0].split("\t")
    account, aux, debit, credit = (
        header.index(name) for name in ("CompteNum", "CompAuxNum", "Debit", "Credit")
    )

    def total(number: str, column: int, auxiliary: str = "") -> Decimal:
        return sum(
            (
                Decimal(line[column].replace(",", "."))
                for line in lines
                if line[account] == number and (not auxiliary or line[aux] == auxiliary)
            ),
            Decimal("0"),
        )

    invoice_b = dues_of(dues.practice_b.pk)[-1]
    assert invoice_a.reference in text and invoice_b.reference in text
    # What the members were invoiced is the dues credited; the bank got the transfer.
    assert total("756000", credit) == invoice_a.total + invoice_b.total
    assert total("411000", debit, f"ADH{dues.practice_a.pk}") == invoice_a.total
    assert total("411000", credit, f"ADH{dues.practice_a.pk}") == Decimal("30.00")
    assert total("512000", debit) == Decimal("30.00")
    # No patient's invoice is in the cooperative's books.
    assert "Honoraires" not in text and "706000" not in text


def test_only_a_cooperative_admin_issues_dues_or_exports_its_books(
    dues: World,  # noqa: F811 - the fixture
) -> None:
    for person in (dues.sam, dues.alice, dues.charlie):
        client = login(Client(), person)
        assert client.get(f"/cooperative/cotisations/fec/?mois={the_month()}").status_code == 403
        assert client.get("/cooperative/cotisations/emettre/").status_code == 403
        response = client.post("/cooperative/cotisations/emettre/", {"mois": next_month()})
        assert response.status_code == 403
    assert len(dues_of(dues.practice_a.pk)) == 1
