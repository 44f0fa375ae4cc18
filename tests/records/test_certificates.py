"""Certificates and letters from models: filled from the record, edited, stored in the
record, printed, audited; only the patient's practitioners may write them."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from core.audit.models import AuditEvent
from records import certificates, services
from records.access import access_for
from records.models import Allergy, Document, Problem
from records.templatetags.patients import age_text
from tests.fixtures import World
from tests.records.test_views import login, pdf_text


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/{rest}"


@pytest.fixture
def alice(client: Client, world: World) -> Client:
    return login(client, world.alice)


def test_the_model_is_filled_from_the_record(alice: Client, world: World) -> None:
    page = alice.get(url(world, "certificat/"), {"modele": "sport"}).content.decode()

    today = timezone.localdate()
    assert "non-contre-indication à la pratique sportive" in page
    assert "Dr Alice Arnaud" in page
    assert f"Paul DUPONT, né(e) le {world.paul.birth_date:%d/%m/%Y}" in page
    assert age_text(world.paul.birth_date, today) in page
    assert f"{today:%d/%m/%Y}" in page or f"{today:%Y-%m-%d}" in page


def test_the_edited_text_is_stored_printed_and_audited(alice: Client, world: World) -> None:
    filled = certificates.fill(
        certificates.MODELS["sport"],
        patient=world.paul,
        author=world.alice,
        today=timezone.localdate(),
    )
    edited = filled.replace("[sport]", "tennis").replace(
        "[en compétition / en loisir]", "en compétition"
    )

    response = alice.post(
        url(world, "certificat/") + "?modele=sport",
        {
            "title": "Certificat de non-contre-indication à la pratique sportive",
            "body": edited,
            "document_date": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 302
    certificate = Document.objects.get(patient=world.paul)
    assert (certificate.kind, certificate.template) == ("certificate", "sport")
    pdf = alice.get(response["Location"])
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "contre-indiquant la pratique de tennis, en compétition" in text
    assert "Dr Alice Arnaud" in text and "Paul DUPONT" in text
    assert "[sport]" not in text
    events = AuditEvent.objects.filter(
        patient_id=world.paul.pk, target=f"document:{certificate.pk}"
    )
    assert {"document.create", "certificate.print"} <= set(events.values_list("action", flat=True))
    # ... and it is on the chart.
    chart = alice.get(url(world)).content.decode()
    documents = chart[chart.index('data-testid="documents"') :]
    assert "Certificat de non-contre-indication" in documents


def test_a_referral_letter_names_problems_and_allergies_and_needs_a_recipient(
    alice: Client, world: World
) -> None:
    actor, access = world.actor(world.alice), access_for(world.paul)
    services.entry_create(actor=actor, access=access, model=Allergy, substance="Pénicilline")
    services.entry_create(actor=actor, access=access, model=Problem, label="HTA", code="I10")

    page = alice.get(url(world, "certificat/"), {"modele": "referral"}).content.decode()
    assert "Allergies : Pénicilline" in page
    assert "problèmes actifs : HTA" in page

    refused = alice.post(
        url(world, "certificat/") + "?modele=referral",
        {"title": "Courrier", "body": "Cher confrère", "document_date": "2026-03-02"},
    )
    assert refused.status_code == 400
    assert not Document.objects.exists()


def test_a_secretary_cannot_write_a_certificate(client: Client, world: World) -> None:
    sam = login(client, world.sam)

    assert sam.get(url(world, "certificat/"), {"modele": "absence"}).status_code == 403
    posted = sam.post(
        url(world, "certificat/") + "?modele=absence",
        {"title": "Certificat", "body": "texte", "document_date": "2026-03-02"},
    )

    assert posted.status_code == 403
    assert not Document.objects.exists()
    assert AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).exists()


def test_another_practice_is_refused(client: Client, world: World) -> None:
    charlie = login(client, world.charlie)
    other = f"/p/{world.practice_b.slug}/patients/{world.paul.pk}/certificat/?modele=medical"

    assert charlie.get(other).status_code in (403, 404)
    posted = charlie.post(
        other, {"title": "Certificat", "body": "texte", "document_date": "2026-03-02"}
    )

    assert posted.status_code in (403, 404)
    assert not Document.objects.filter(patient_id=world.paul.pk).exists()


def test_an_unknown_model_is_not_found(alice: Client, world: World) -> None:
    assert alice.get(url(world, "certificat/"), {"modele": "arret"}).status_code == 404


def test_the_service_refuses_an_empty_text(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.certificate_write(
            actor=world.actor(world.alice),
            access=access_for(world.paul),
            model="medical",
            title="Certificat médical",
            body="  ",
            document_date=date(2026, 3, 2),
        )


def test_the_models_page_says_the_sick_leave_is_out_of_scope(alice: Client, world: World) -> None:
    page = alice.get(url(world, "certificats/")).content.decode()

    for name in ("Certificat médical", "absence", "sport", "adressage"):
        assert name in page
    assert "amelipro" in page
