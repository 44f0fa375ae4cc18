"""Practices (tenants) and cooperative membership."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.accounts.models import Person
from core.quickload import QuickLoad


class CareTeamMode(models.TextChoices):
    """Who is in a patient's care team ("équipe de soins"), for the whole practice.

    ``named``: the team is named patient by patient; the GP of record is always in it.
    ``practice``: every practitioner of the practice is in every patient's team (the
    usual case in a maison de santé, the patient being informed by a notice); the patient
    can still exclude anyone.
    """

    NAMED = "named", _("A named team for each patient")
    PRACTICE = "practice", _("Every clinician of the practice")


class Practice(QuickLoad, models.Model):
    """A primary-care practice: the tenant every patient-data row belongs to."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    finess = models.CharField(_("FINESS number"), max_length=9, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)
    # Nothing is widened unless the practice chooses it: ``named`` by default, in the
    # database too (a row written by SQL, an import, gets it).
    care_team_mode = models.CharField(
        _("care team"),
        max_length=10,
        choices=CareTeamMode.choices,
        default=CareTeamMode.NAMED,
        db_default=CareTeamMode.NAMED,
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CooperativeMembership(models.Model):
    """A practice's membership of the cooperative: its plan and status."""

    class Plan(models.TextChoices):
        SOLO = "solo", _("Solo practice")
        GROUP = "group", _("Group practice")
        HEALTH_CENTRE = "centre", _("Health centre")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        # The practice asked to leave: its data is deleted once the notice has run.
        LEAVING = "leaving", _("Leaving: notice running")
        LEFT = "left", _("Left the cooperative")

    practice = models.OneToOneField(Practice, on_delete=models.PROTECT, related_name="membership")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.GROUP)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    shares = models.PositiveIntegerField(_("cooperative shares"), default=1)
    # Shares (parts sociales) the cooperative has received the money for.
    shares_paid = models.PositiveIntegerField(_("cooperative shares paid"), default=0, db_default=0)
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)
    # Leaving (core.practices.services.leaving): asked on, and the day the node deletes
    # the practice's data (the notice's end); then the signed certificate of deletion,
    # kept with this membership record for good.
    leaving_requested_at = models.DateTimeField(null=True, blank=True)
    leaving_effective_on = models.DateField(null=True, blank=True)
    deletion_certificate = models.TextField(blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"{self.practice} ({self.get_status_display()})"


class MembershipApplication(models.Model):
    """A practice asking to join the cooperative, from the node's public page.

    Stored whole or not at all (``services.applications.application_submit``). A
    cooperative administrator approves it (the practice is provisioned, ``practice``
    names it) or refuses it with a reason. It holds no patient data: its table is read
    by the cooperative's administrators without a practice context (core/practices/apps.py).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    class Country(models.TextChoices):
        FRANCE = "FR", _("France")
        BELGIUM = "BE", _("Belgium")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    practice_name = models.CharField(_("name of the practice"), max_length=200)
    address = models.TextField(_("address"))
    postal_code = models.CharField(_("postal code"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    plan = models.CharField(_("plan"), max_length=20, choices=CooperativeMembership.Plan.choices)
    shares = models.PositiveIntegerField(_("cooperative shares subscribed"))
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    statutes_accepted_at = models.DateTimeField()
    submitted_at = models.DateTimeField(auto_now_add=True)
    # The client address, kept to limit how many applications one machine sends.
    submitted_from = models.CharField(max_length=64, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refusal_reason = models.CharField(max_length=500, blank=True)
    practice = models.OneToOneField(
        Practice, on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["submitted_from", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.practice_name} ({self.get_status_display()})"


class ApplicationPractitioner(models.Model):
    """One practitioner of an applying practice, as the application names them. The
    first one listed becomes the practice's first administrator."""

    application = models.ForeignKey(
        MembershipApplication, on_delete=models.CASCADE, related_name="practitioners"
    )
    position = models.PositiveSmallIntegerField()
    full_name = models.CharField(_("full name"), max_length=200)
    profession = models.CharField(_("profession"), max_length=20, choices=Person.Profession.choices)
    # RPPS (France) or INAMI (Belgium) number, when given.
    identifier = models.CharField(_("RPPS or INAMI number"), max_length=11, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.full_name
