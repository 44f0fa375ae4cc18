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


class LetterState(models.TextChoices):
    """Where the letter telling the patient about an emergency access is."""

    PENDING = "pending", _("to hand over")
    HANDED = "handed", _("handed over")
    POSTED = "posted", _("posted")


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
    # The patient is told on paper (right to paper): the letter waits at the desk until it
    # is handed over at the next visit or posted.
    letter = models.CharField(
        max_length=10, choices=LetterState.choices, default=LetterState.PENDING
    )
    letter_at = models.DateTimeField(null=True, blank=True)
    letter_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["patient_id", "expires_at"]),
            models.Index(fields=["patient_id", "letter"]),
        ]


class ShareCategory(models.TextChoices):
    """What a sharing consent may cover (sections of the patient summary)."""

    IDENTITY = "identity", _("Identity")
    PROBLEMS = "problems", _("Problems and history")
    ALLERGIES = "allergies", _("Allergies and intolerances")
    MEDICATIONS = "medications", _("Current treatment")
    IMMUNIZATIONS = "immunizations", _("Vaccinations")
    OBSERVATIONS = "observations", _("Results and measurements")
    LETTERS = "letters", _("Letters")


class SharingConsent(models.Model):
    """The patient's explicit, revocable permission to share with one recipient
    (FHIR Consent semantics: scope patient-privacy, a permit provision limited to
    actors, data categories, purpose and period). Without one, nothing leaves."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "inactive", _("Revoked")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient_id = models.BigIntegerField()
    # The recipient, as named in the cooperative's directory.
    grantee_node = models.CharField(_("recipient node"), max_length=100)
    grantee_practice = models.CharField(_("recipient practice"), max_length=100)
    grantee_practitioner = models.CharField(
        _("recipient practitioner (RPPS), empty for the whole practice"), max_length=20, blank=True
    )
    categories = models.JSONField(default=list)  # ShareCategory values
    labels = models.JSONField(default=list)  # sensitivity labels explicitly included
    purpose = models.CharField(_("purpose"), max_length=40, default="care")
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"), null=True, blank=True)
    source = models.CharField(_("how the patient consented (e.g. signed form no.)"), max_length=200)
    witness = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scan_document_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient_id", "status"])]


class SharingRefusal(models.Model):
    """The patient's global "I say no": no sharing at all, and no emergency access from
    outside the practice. Revocable like any choice."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient_id = models.BigIntegerField()
    source = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
