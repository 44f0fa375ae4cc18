"""What the laboratories send: each file received, kept as it came, with what became of
it — filed to a chart, waiting for a person to match its patient, or refused with a
reason. The results themselves are the record's observations (records.Observation),
linked to the report they came in (records.Document)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class Source(models.TextChoices):
    UPLOAD = "upload", _("uploaded")
    FOLDER = "folder", _("drop folder")
    API = "api", _("API")


class FileStatus(models.TextChoices):
    FILED = "filed", _("filed")
    TO_MATCH = "to_match", _("to match")
    REFUSED = "refused", _("refused")


class Conclusion(models.TextChoices):
    NOTHING_TO_REPORT = "ras", _("seen, nothing to report")
    TO_REVIEW = "review", _("seen, to review")


class LabFile(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    original = models.BinaryField()  # the bytes as received, for a person to look at
    format = models.CharField(max_length=10, blank=True)  # "hprim", "hl7v2" or ""
    message_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=FileStatus.choices)
    reason_code = models.CharField(max_length=30, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # The identity as the laboratory wrote it (what the matching queue shows).
    family = models.CharField(max_length=100, blank=True)
    given = models.CharField(max_length=150, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    nir = models.CharField(max_length=15, blank=True)
    laboratory = models.CharField(max_length=200, blank=True)
    observed_on = models.DateField(null=True, blank=True)
    result_count = models.PositiveIntegerField(default=0)
    abnormal_count = models.PositiveIntegerField(default=0)
    # Once filed: whose chart, for which practitioner, the report document.
    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    report = models.ForeignKey(
        "records.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    filed_at = models.DateTimeField(null=True, blank=True)
    # Read and signed off by the practitioner it was filed for.
    read_at = models.DateTimeField(null=True, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    conclusion = models.CharField(max_length=10, choices=Conclusion.choices, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            # Each file imported once: by its content, and an HL7 message by its id.
            models.UniqueConstraint(fields=["practice", "sha256"], name="lab_file_once"),
            models.UniqueConstraint(
                fields=["practice", "laboratory", "message_id"],
                condition=models.Q(format="hl7v2") & ~models.Q(message_id=""),
                name="lab_hl7_message_once",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status", "-received_at"]),
            models.Index(fields=["practitioner", "read_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.filename or self.sha256[:12]} ({self.status})"
