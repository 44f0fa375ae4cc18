"""The record pages through the web client: forms, errors, escaping, PDFs, and the
secretary kept out of clinical content in every channel."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from core import tenancy
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Encounter, Patient, Problem
from tests.fixtures import World, enroll, totp_code


def login(client: Client, person) -> Client:
    device = enroll(person)
    client.post(
        "/connexion/", {"username": person.username, "password": "correct horse battery staple"}
    )
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


def pdf_text(content: bytes) -> str:
    """The PDF's text with whitespace normalised (table cells wrap lines)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


@pytest.fixture
def alice(client: Client, world: World) -> Client:
    return login(client, world.alice)


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/{rest}"


def test_the_chart_page_opens_with_its_sections(alice: Client, world: World) -> None:
    response = alice.get(url(world))
    assert response.status_code == 200
    page = response.content.decode()
    for heading in ("Problèmes actifs", "Traitement en cours", "Dernières consultations"):
        assert heading in page


def test_the_chart_view_query_count_is_the_same_for_5_and_500_consultations(
    alice: Client, world: World, django_assert_max_num_queries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice.get(url(world)).status_code == 200
        return len(captured.captured_queries)

    def add(n: int, offset: int) -> None:
        Encounter.objects.bulk_create(
            Encounter(
                practice_id=world.practice_a.pk,
                patient=world.paul,
                author=world.alice,
                reason=f"C{i}",
                occurred_at=timezone.now() - timedelta(days=offset + i),
            )
            for i in range(n)
        )

    tenancy.activate(world.practice_a.pk)
    add(5, 0)
    with_5 = count()
    tenancy.activate(world.practice_a.pk)
    add(495, 10)
    assert count() == with_5


def test_writing_a_consultation_through_the_form(alice: Client, world: World) -> None:
    from records.models import DocumentationOpening

    response = alice.get(url(world, "consultation/"))
    assert response.status_code == 200
    opening = DocumentationOpening.objects.get()  # the server notes when the form was served
    opening.opened_at -= timedelta(seconds=120)
    opening.save()
    response = alice.post(
        url(world, "consultation/"),
        {
            "kind": "office",
            "reason": "Céphalées",
            "subjective": "Depuis 3 jours",
            "weight": "70",
            "draft": opening.token,
        },
    )
    assert response.status_code == 302
    encounter = Encounter.objects.get(reason="Céphalées")
    assert 100 <= encounter.documentation_seconds <= 200


def test_markup_in_a_field_is_shown_as_text(alice: Client, world: World) -> None:
    alice.post(
        url(world, "consultation/"), {"kind": "office", "reason": "<script>alert('x')</script>"}
    )
    page = alice.get(url(world)).content.decode()
    assert "<script>alert('x')</script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_a_missing_reason_gets_a_field_error_not_a_500(alice: Client, world: World) -> None:
    response = alice.post(url(world, "consultation/"), {"kind": "office", "reason": ""})
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert not Encounter.objects.exists()


def test_prescribing_then_printing_a_real_pdf(alice: Client, world: World) -> None:
    response = alice.post(
        url(world, "ordonnance/"),
        {
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "0",
            "items-0-drug_label": "Amoxicilline 1 g",
            "items-0-posology": "1 cp matin et soir",
            "items-0-duration_days": "6",
            "items-0-substitutable": "on",
            "items-1-drug_label": "",
            "items-1-posology": "",
            "items-1-duration_days": "30",
            "renewals": "0",
        },
    )
    assert response.status_code == 302
    pdf = alice.get(response["Location"])
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Amoxicilline 1 g" in text and "DUPONT Paul" in text
    assert AuditEvent.objects.filter(action="prescription.print", patient_id=world.paul.pk).exists()


def test_an_ald_prescription_has_two_zones(alice: Client, world: World) -> None:
    prescription = services.prescription_create(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        items=[
            services.ItemInput(
                posology="1/j",
                duration_days=30,
                drug_label="Metformine 1000 mg",
                long_term_condition=True,
            ),
            services.ItemInput(posology="si besoin", duration_days=5, drug_label="Paracétamol 1 g"),
        ],
    )
    text = pdf_text(alice.get(url(world, f"ordonnance/{prescription.pk}.pdf")).content).lower()
    assert "affection de longue durée" in text
    assert (
        text.index("metformine") < text.index("maladies intercurrentes") < text.index("paracétamol")
    )


@pytest.mark.parametrize(
    "data,field",
    [
        ({"nir": "185057800608492"}, "nir"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
    ],
)
def test_registering_with_bad_identity_gets_a_field_error(
    alice: Client, world: World, data, field
) -> None:
    form = {
        "birth_name": "Martin",
        "given_names": "Léa",
        "sex": "F",
        "birth_date": "1985-05-02",
        "contact_preference": "paper",
        "gp": "none",
        **data,
    }
    tenancy.activate(world.practice_a.pk)
    before = Patient.objects.count()
    response = alice.post(f"/p/{world.practice_a.slug}/patients/nouveau/", form)
    assert response.status_code == 400
    assert f'id="id_{field}"' in response.content.decode()
    assert "errorlist" in response.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert Patient.objects.count() == before


def test_a_possible_duplicate_must_be_confirmed(alice: Client, world: World) -> None:
    form = {
        "birth_name": "Dupond",
        "given_names": "Paul",
        "sex": world.paul.sex,
        "birth_date": world.paul.birth_date.isoformat(),
        "contact_preference": "paper",
        "gp": str(world.alice.pk),
    }
    response = alice.post(f"/p/{world.practice_a.slug}/patients/nouveau/", form)
    assert response.status_code == 400
    assert 'data-testid="duplicates"' in response.content.decode()
    response = alice.post(
        f"/p/{world.practice_a.slug}/patients/nouveau/", {**form, "confirm_not_duplicate": "on"}
    )
    assert response.status_code == 302


def test_unicode_names_round_trip_through_the_form(alice: Client, world: World) -> None:
    form = {
        "birth_name": "N'Guessan-Ørsted",
        "given_names": "Zoë 王 Дарья",
        "sex": "F",
        "birth_date": "1990-01-02",
        "contact_preference": "paper",
        "gp": "none",
    }
    assert alice.post(f"/p/{world.practice_a.slug}/patients/nouveau/", form).status_code == 302
    patient = Patient.objects.get(birth_name="N'Guessan-Ørsted")
    assert patient.given_names == "Zoë 王 Дарья"
    page = alice.get(f"/p/{world.practice_a.slug}/patients/{patient.pk}/").content.decode()
    assert "N&#x27;GUESSAN-ØRSTED Zoë 王 Дарья" in page


def test_correcting_an_entry_keeps_history_and_detects_conflicts(
    alice: Client, world: World
) -> None:
    problem = services.entry_create(
        actor=world.actor(world.alice), access=access_for(world.paul), model=Problem, label="HTA"
    )
    path = url(world, f"problem/{problem.pk}/corriger/")
    assert alice.get(path).status_code == 200
    ok = alice.post(path, {"version": "1", "reason": "précision", "label": "HTA essentielle"})
    assert ok.status_code == 302
    stale = alice.post(path, {"version": "1", "reason": "autre", "label": "HTA secondaire"})
    assert stale.status_code == 400
    assert (
        "modifiée par quelqu" in stale.content.decode()
        or "changed by someone" in stale.content.decode()
    )
    problem.refresh_from_db()
    assert problem.label == "HTA essentielle"
    history = alice.get(path).content.decode()
    assert "précision" in history and "HTA" in history


# --- the secretary never reads clinical content: UI, API, PDF -------------------------


@pytest.fixture
def paul_with_a_note(world: World) -> Encounter:
    return services.consultation_record(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        reason="Suivi",
        subjective="NOTE-CLINIQUE-SECRETE",
    )


def test_a_secretary_cannot_read_a_note_in_the_ui(
    client: Client, world: World, paul_with_a_note
) -> None:
    sam = login(client, world.sam)
    page = sam.get(url(world)).content.decode()
    assert "NOTE-CLINIQUE-SECRETE" not in page
    assert 'data-testid="clinical-refused"' in page
    assert sam.get(url(world, "consultation/")).status_code == 403


def test_a_secretary_cannot_read_a_note_in_the_record_pdf(
    client: Client, world: World, paul_with_a_note
) -> None:
    sam = login(client, world.sam)
    response = sam.get(url(world, "dossier.pdf"))
    assert response.status_code == 403
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.sam.pk).latest("seq")
    assert denial.patient_id == world.paul.pk


def test_a_secretary_cannot_print_a_prescription(client: Client, world: World) -> None:
    prescription = services.prescription_create(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        items=[services.ItemInput(posology="1/j", duration_days=5, drug_label="X")],
    )
    sam = login(client, world.sam)
    assert sam.get(url(world, f"ordonnance/{prescription.pk}.pdf")).status_code == 403


def test_the_record_pdf_is_a_real_pdf_for_the_care_team(
    alice: Client, world: World, paul_with_a_note
) -> None:
    response = alice.get(url(world, "dossier.pdf"))
    assert response.status_code == 200
    assert "NOTE-CLINIQUE-SECRETE" in pdf_text(response.content)


def test_the_access_report_lists_the_reads_by_others(
    client: Client, world: World, paul_with_a_note
) -> None:
    from core.access import choices

    # Bob opens the chart (identity only), then uses emergency access and reads the note.
    bob = login(Client(), world.bob)
    bob.get(url(world))
    tenancy.activate(world.practice_a.pk, world.bob.pk)
    choices.break_glass_start(
        actor=world.actor(world.bob),
        patient_id=world.paul.pk,
        reason="Patient inconscient en salle d'attente",
    )
    bob.get(url(world))
    sam = login(client, world.sam)
    response = sam.get(url(world, "acces.pdf"))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Dr Bob Blanc" in text
    assert "Patient inconscient" in text
    assert "Dr Alice Arnaud" in text
