"""The sharing service's tables. Every table carries ``practice_id`` (row-level security)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class ImportedResource(models.Model):
    """A FHIR resource already imported into a practice, and the row it became.

    The importer looks here before writing anything, so importing the same bundle twice
    creates nothing new. It also keeps where an entry came from: the author of an
    imported entry is the practitioner who imported it, not the source's clinician.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    # The bundle's origin: its meta.source, or the file it was read from.
    source = models.CharField(_("source"), max_length=200)
    resource_type = models.CharField(_("FHIR resource type"), max_length=64)
    # The FHIR id, or the entry's fullUrl (urn:uuid:...) when the resource has no id;
    # an Observation component gets "<id>#component-<n>".
    resource_id = models.CharField(_("FHIR id"), max_length=255)
    target_type = models.CharField(_("imported as"), max_length=20)  # "patient", "problem"...
    target_id = models.BigIntegerField()
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "resource_type", "resource_id"],
                name="imported_resource_unique_per_practice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id} -> {self.target_type}:{self.target_id}"


class DirectoryEntry(models.Model):
    """One practice of the cooperative's directory, as last imported on this node."""

    node = models.CharField(max_length=100)
    gateway = models.URLField(max_length=300)
    slug = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    fingerprints = models.JSONField()  # current key first, then keys still accepted
    public_keys = models.TextField()
    directory_version = models.PositiveIntegerField()
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "slug"], name="directory_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.node}/{self.slug}"


class OutboxMessage(models.Model):
    """A sealed message waiting to be delivered to another practice's gateway."""

    class Kind(models.TextChoices):
        SHARE = "share", _("Share")
        RECEIPT = "receipt", _("Receipt")
        REVOCATION = "revocation", _("Revocation notice")

    class Status(models.TextChoices):
        PENDING = "pending", _("Sent, waiting for delivery")
        DELIVERED = "delivered", _("Delivered")
        ACKNOWLEDGED = "acknowledged", _("Accepted (receipt received)")
        DECLINED = "declined", _("Declined by the recipient")
        CANCELLED = "cancelled", _("Revoked: cancelled before delivery")
        FAILED = "failed", _("Refused by the recipient's node")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    recipient_node = models.CharField(max_length=100)
    recipient_practice = models.CharField(max_length=100)
    recipient_practitioner = models.CharField(max_length=20, blank=True)
    gateway = models.URLField(max_length=300)
    sealed = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    consent_id = models.BigIntegerField(null=True, blank=True)
    # What a share contained (categories and counts), for the patient's access report.
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The receipt: when it came back, who answered at the recipient, and why they
    # declined (empty when accepted).
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=200, blank=True)
    answer_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class InboxMessage(models.Model):
    """A sealed message received by the gateway for a practice of this node, checked
    (signature, sender, expiry) but kept encrypted until a practitioner opens it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("To be read")
        ACCEPTED = "accepted", _("Accepted into the record")
        REJECTED = "rejected", _("Declined")
        REVOKED = "revoked", _("Consent revoked by the patient")
        PROCESSED = "processed", _("Processed")  # receipts and revocation notices

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=12)
    sender_node = models.CharField(max_length=100)
    sender_practice = models.CharField(max_length=100)
    signer_fingerprint = models.CharField(max_length=64)
    sealed = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)  # set when accepted
    # Why the practitioner declined it; it travels back to the sender in the receipt.
    decline_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "status"])]
