"""The patient's health-insurance cover, as the desk reads it from the attestation
(the "attestation de droits" and the mutuelle's card).

One row per change, never updated: the history of a patient's cover is kept, and an
invoice is printed with the cover in force on its date of care.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class Cover(models.Model):
    class Regime(models.TextChoices):
        GENERAL = "01", _("General scheme (CPAM)")
        AGRICULTURAL = "02", _("Agricultural scheme (MSA)")
        OTHER = "99", _("Another scheme (SNCF, RATP, ENIM, CAVIMAC, military…)")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient_id = models.BigIntegerField()
    # The mandatory insurer (AMO)
    regime = models.CharField(max_length=2, choices=Regime.choices, default=Regime.GENERAL)
    caisse_code = models.CharField(max_length=3)  # e.g. "751" (CPAM de Paris)
    caisse_name = models.CharField(max_length=100)
    rights_from = models.DateField()
    rights_until = models.DateField(null=True, blank=True)
    long_term_condition = models.BooleanField(default=False)  # ALD, exonération
    long_term_until = models.DateField(null=True, blank=True)
    c2s = models.BooleanField(default=False)  # Complémentaire santé solidaire
    ame = models.BooleanField(default=False)  # Aide médicale de l'État
    # The complementary insurer (AMC, the mutuelle)
    amc_name = models.CharField(max_length=100, blank=True)
    amc_number = models.CharField(max_length=10, blank=True)  # its organisation number
    amc_member_number = models.CharField(max_length=30, blank=True)
    amc_contract = models.CharField(max_length=60, blank=True)
    amc_until = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient_id", "-rights_from", "-recorded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rights_until__isnull=True)
                | models.Q(rights_until__gte=models.F("rights_from")),
                name="cover_rights_in_order",
            ),
            models.CheckConstraint(
                condition=~(models.Q(c2s=True) & models.Q(ame=True)),
                name="cover_c2s_or_ame",
            ),
        ]

    @property
    def has_complementary(self) -> bool:
        return bool(self.amc_name) or self.c2s

    def in_force(self, day: date) -> bool:
        return self.rights_from <= day and (self.rights_until is None or day <= self.rights_until)
