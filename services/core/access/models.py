"""The patient's choices the policy reads: exclusions, who may see sensitive labels, and
break-the-glass grants. ``patient_id`` is a plain number: the kernel does not import the
records service."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class SensitivityLabel(models.TextChoices):
    """Labels hidden by default from everyone but the author and those the patient allows."""

    MENTAL_HEALTH = "mental_health", _("Mental health")
    SEXUAL_REPRODUCTIVE = "sexual_reproductive", _("Sexual and reproductive health")
    HIV_STI = "hiv_sti", _("HIV and sexually transmitted infections")
    ADDICTION = "addiction", _("Addiction")
    GENDER_IDENTITY = "gender_identity", _("Gender identity")
    GENETICS = "genetics", _("Genetics")


class PracticeLabel(models.Model):
    """A sensitivity label a practice defines for itself (e.g. 'violence')."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "code"], name="practice_label_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Restriction(models.Model):
    """The patient excludes a person — from the whole record (no entry given) or from one
    entry. There is no exception, not even for the GP of record."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient_id = models.BigIntegerField()
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entry_type = models.CharField(max_length=20, blank=True)
    entry_id = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(_("patient's words or reason"), blank=True)
    source = models.CharField(_("how the patient asked (e.g. signed form no.)"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient_id", "revoked_at"])]


class LabelGrant(models.Model):
    """The patient allows a person to see entries with one sensitivity label."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient_id = models.BigIntegerField()
    label = models.CharField(max_length=40)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient_id", "revoked_at"])]


class BreakGlass(models.Model):
    """Emergency access to one patient's record by a practitioner outside the care team:
    a stated reason, at most four hours, flagged for review by the practice."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient_id = models.BigIntegerField()
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient_id", "expires_at"])]
