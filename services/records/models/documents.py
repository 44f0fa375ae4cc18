"""Documents: uploaded files (PDF, images), and letters and certificates written in
Carnet."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from records.models.clinical import ClinicalEntry


class Document(ClinicalEntry):
    """A document of the record: an uploaded file, or a letter or certificate written in
    Carnet (its text in ``body``, printed to PDF on demand)."""

    ENTRY_TYPE = "document"

    class Kind(models.TextChoices):
        LETTER = "letter", _("Letter")
        CERTIFICATE = "certificate", _("Certificate")
        REPORT = "report", _("Report")
        RESULT = "result", _("Lab or imaging result")
        IMAGE = "image", _("Image")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    document_date = models.DateField(_("date"))
    # An uploaded file, stored outside the web root and served only through the policy.
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    # A letter written in Carnet.
    recipient = models.CharField(_("recipient"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    # The model a letter or certificate was written from (records.certificates), if any.
    template = models.CharField(_("model"), max_length=20, blank=True)
    reviewed = models.BooleanField(_("reviewed"), default=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-document_date"])]

    def __str__(self) -> str:
        return self.title
