"""Documents: uploaded files (PDF, PNG, JPEG), and letters and certificates written in
Carnet.

An upload is checked by its content, not by its name: the first bytes must be those of
a PDF, PNG or JPEG file, and it must be under ``MAX_UPLOAD_BYTES``. Files are stored
outside the web root under a random name and served only through the access policy.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from core.access.policy import Actor
from records.access import PatientAccess
from records.models import Document
from records.services.entries import entry_create

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

SIGNATURES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def sniff(head: bytes) -> tuple[str, str] | None:
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


@transaction.atomic
def document_upload(
    *,
    actor: Actor,
    access: PatientAccess,
    upload: IO[bytes],
    size: int,
    title: str,
    kind: str,
    document_date: date,
    sensitivity: str = "",
    reviewed: bool = False,
) -> Document:
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            {
                "file": _("The file is too large (at most %(mb)s MB).")
                % {"mb": MAX_UPLOAD_BYTES // 2**20}
            }
        )
    content = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is too large.")})
    if not content:
        raise ValidationError({"file": _("The file is empty.")})
    detected = sniff(content[:16])
    if detected is None:
        raise ValidationError({"file": _("Only PDF, PNG and JPEG files are accepted.")})
    content_type, extension = detected
    document = entry_create(
        actor=actor,
        access=access,
        model=Document,
        kind=kind,
        title=title,
        document_date=document_date,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        sensitivity=sensitivity,
        reviewed=reviewed,
    )
    # A random name: nothing of the patient or of the uploaded name reaches the disk.
    document.file.save(f"{secrets.token_hex(16)}.{extension}", ContentFile(content), save=True)
    return document


@transaction.atomic
def letter_write(
    *,
    actor: Actor,
    access: PatientAccess,
    title: str,
    recipient: str,
    body: str,
    document_date: date,
    sensitivity: str = "",
) -> Document:
    if not body.strip():
        raise ValidationError({"body": _("The letter is empty.")})
    return entry_create(
        actor=actor,
        access=access,
        model=Document,
        kind=Document.Kind.LETTER,
        title=title,
        recipient=recipient,
        body=body,
        document_date=document_date,
        sensitivity=sensitivity,
    )


@transaction.atomic
def certificate_write(
    *,
    actor: Actor,
    access: PatientAccess,
    model: str,
    title: str,
    body: str,
    document_date: date,
    recipient: str = "",
    sensitivity: str = "",
) -> Document:
    """Store a certificate or a letter written from a model (``records.certificates``),
    as edited by the practitioner: a document of the record, audited as written
    (``document.create``) and, when printed, as printed."""
    from records.certificates import MODELS

    chosen = MODELS.get(model)
    if chosen is None:
        raise ValidationError(_("Unknown model of certificate."))
    if not body.strip():
        raise ValidationError({"body": _("The text is empty.")})
    if chosen.needs_recipient and not recipient.strip():
        raise ValidationError({"recipient": _("Say to whom the letter is addressed.")})
    return entry_create(
        actor=actor,
        access=access,
        model=Document,
        kind=chosen.kind,
        template=chosen.key,
        title=title,
        recipient=recipient,
        body=body,
        document_date=document_date,
        sensitivity=sensitivity,
    )
