"""Practices (tenants) and cooperative membership."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CareTeamMode(models.TextChoices):
    """Who is in a patient's care team ("équipe de soins"), for the whole practice.

    ``named``: the team is named patient by patient; the GP of record is always in it.
    ``practice``: every practitioner of the practice is in every patient's team (the
    usual case in a maison de santé, the patient being informed by a notice); the patient
    can still exclude anyone.
    """

    NAMED = "named", _("A named team for each patient")
    PRACTICE = "practice", _("Every clinician of the practice")


class Practice(models.Model):
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
        LEFT = "left", _("Left the cooperative")

    practice = models.OneToOneField(Practice, on_delete=models.PROTECT, related_name="membership")
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.GROUP)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    shares = models.PositiveIntegerField(_("cooperative shares"), default=1)
    joined_on = models.DateField(null=True, blank=True)
    left_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.practice} ({self.get_status_display()})"
