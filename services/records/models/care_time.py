"""Documentation is care work: every act of documentation, timed by the server.

An act starts when the server hands out a form or an API draft (``DocumentationOpening``,
one row per opening, bound to the practitioner, the practice, the kind and the patient)
and ends when the entry is saved: the save consumes the opening in the same transaction
and writes one ``DocumentationAct``. The client never says when it opened the form, so it
cannot stretch the time; a time a client declares through the API is kept apart
(``declared_seconds``) and never added to the measured time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice
from records.models.clinical import Encounter
from records.models.patients import Patient


class ActKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation note")
    PRESCRIPTION = "prescription", _("Prescription")
    LETTER = "letter", _("Letter")
    CERTIFICATE = "certificate", _("Certificate")
    PROBLEM = "problem", _("Problem or history")
    ALLERGY = "allergy", _("Allergy or intolerance")
    VACCINATION = "vaccination", _("Vaccination")
    OBSERVATION = "observation", _("Observation or result")
    DOCUMENT = "document", _("Document filed")
    LAB_RESULT = "lab_result", _("Lab result read and signed off")
    INVOICE = "invoice", _("Invoice")


class DocumentationOpening(models.Model):
    """A form or API draft the server handed out; consumed (deleted) by its save."""

    token = models.CharField(max_length=64, primary_key=True)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=ActKind.choices)
    opened_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["opened_at"], name="records_opening_by_time")]


class DocumentationAct(models.Model):
    """One act of documentation: who, for whom, what, and how long."""

    class Source(models.TextChoices):
        FORM = "form", _("page")
        API = "api", _("API")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=ActKind.choices)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)
    # Empty when nothing was measured (an API save without a draft: declared time only).
    opened_at = models.DateTimeField(null=True, blank=True)
    saved_at = models.DateTimeField()
    # Opening to saving as the server saw it, capped (see services.care_time.MAX_ACT).
    measured_seconds = models.PositiveIntegerField(null=True, blank=True)
    capped = models.BooleanField(default=False)
    # What an API client said it spent: shown as declared, never summed with the above.
    declared_seconds = models.PositiveIntegerField(null=True, blank=True)
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    entry_id = models.BigIntegerField(null=True, blank=True)
    # The agenda's appointment this consultation closed, and when the patient was called
    # in (the agenda writes them through the service; no key to the agenda's table).
    appointment_id = models.BigIntegerField(null=True, blank=True)
    visit_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["practitioner", "saved_at"], name="records_act_by_person"),
        ]


class CareTimeSharing(models.Model):
    """A practitioner's choice to show their documentation time to the practice's
    other practitioners (off unless they turn it on)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    shared = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "practitioner"], name="records_care_time_sharing_once"
            )
        ]
