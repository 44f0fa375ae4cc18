"""Amounts as their reader writes them: "1 234,50 €" in French, with non-breaking
spaces (the amount never wraps away from its sign); "€1,234.50" in English; a printed
document is French whatever the language of the screen."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client
from django.utils import translation

from core.documents.money import money_text
from tests.billing.test_closing import day_with_two_payees  # noqa: F401
from tests.fixtures import World
from tests.records.test_views import login, pdf_text

NBSP = "\u00a0"


def test_french_amounts_have_a_comma_and_non_breaking_spaces() -> None:
    with translation.override("fr"):
        assert money_text(Decimal("10")) == f"10,00{NBSP}€"
        assert money_text(Decimal("1234.5")) == f"1{NBSP}234,50{NBSP}€"
        assert money_text(Decimal("-2")) == f"-2,00{NBSP}€"
        assert money_text(None) == ""


def test_english_amounts_put_the_euro_sign_first() -> None:
    with translation.override("en"):
        assert money_text(Decimal("10")) == "€10.00"
        assert money_text(Decimal("1234.5")) == "€1,234.50"
        assert money_text(Decimal("-2")) == "-€2.00"
    assert money_text(Decimal("10"), "fr") == f"10,00{NBSP}€"  # a printed document


def test_the_cash_journal_writes_amounts_in_the_readers_language(
    client: Client,
    day_with_two_payees: World,  # noqa: F811
) -> None:
    world = day_with_two_payees
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/caisse/"
    french = sam.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"55,00{NBSP}€" in french and "55.00" not in french and "€55" not in french
    english = sam.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "€55.00" in english and "55,00" not in english


def test_the_printed_closing_report_is_french_from_an_english_screen(
    client: Client,
    day_with_two_payees: World,  # noqa: F811
) -> None:
    world = day_with_two_payees
    sam = login(client, world.sam)
    pdf = sam.get(f"/p/{world.practice_a.slug}/caisse/cloture.pdf", HTTP_ACCEPT_LANGUAGE="en")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Total encaissé : 55,00 €" in text and "€55" not in text and "55.00" not in text
