"""Documents: type checked by content, size limited, stored outside the web root, served
through the policy; letters written in Carnet and printed."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core import tenancy
from core.audit.models import AuditEvent
from records.models import Document
from tests.fixtures import World
from tests.records.test_views import login, pdf_text, url

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def upload(client: Client, world: World, content: bytes, name: str = "scan.png"):
    return client.post(
        url(world, "documents/ajouter/"),
        {
            "file": SimpleUploadedFile(name, content),
            "title": "Compte rendu",
            "kind": "report",
            "document_date": "2026-11-02",
        },
    )


def test_a_pdf_upload_is_stored_and_served_to_the_care_team(
    client: Client, world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    alice = login(client, world.alice)
    assert upload(alice, world, PDF, "cr.pdf").status_code == 302
    tenancy.activate(world.practice_a.pk)
    document = Document.objects.get()
    assert (document.content_type, document.size) == ("application/pdf", len(PDF))
    assert "cr" not in document.file.name and document.file.name.endswith(".pdf")
    response = alice.get(url(world, f"documents/{document.pk}/"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="document.read", patient_id=world.paul.pk).exists()


def test_a_wrong_file_type_gets_a_field_error_and_nothing_is_stored(
    client: Client, world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    alice = login(client, world.alice)
    response = upload(alice, world, b"<html><script>alert(1)</script></html>", "evil.pdf")
    assert response.status_code == 400
    assert "PDF, PNG" in response.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert not Document.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_an_oversized_upload_gets_a_field_error_and_nothing_is_stored(
    client: Client, world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    alice = login(client, world.alice)
    response = upload(alice, world, PNG + b"\x00" * (10 * 1024 * 1024))
    assert response.status_code == 400
    assert "10 Mo" in response.content.decode() or "10 MB" in response.content.decode()
    tenancy.activate(world.practice_a.pk)
    assert not Document.objects.exists()


def test_a_secretary_cannot_open_a_document(
    client: Client, world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    upload(login(Client(), world.alice), world, PNG)
    tenancy.activate(world.practice_a.pk)
    document = Document.objects.get()
    sam = login(client, world.sam)
    assert sam.get(url(world, f"documents/{document.pk}/")).status_code == 403


def test_a_letter_is_written_and_printed(client: Client, world: World) -> None:
    alice = login(client, world.alice)
    response = alice.post(
        url(world, "courrier/"),
        {
            "title": "Avis cardiologique",
            "recipient": "Dr Cœur\nHôpital Édouard-Herriot",
            "body": "Cher confrère,\nMerci de recevoir M. Dupont.",
            "document_date": "2026-11-20",
        },
    )
    assert response.status_code == 302
    text = pdf_text(alice.get(response["Location"]).content)
    assert "Avis cardiologique" in text and "Cher confrère" in text and "DUPONT Paul" in text
    assert AuditEvent.objects.filter(action="letter.print", patient_id=world.paul.pk).exists()
