"""The practice's own fee schedule: dated tariffs that override or add to the shipped
schedule (``Act``).

The price of a code on a day is the practice's row valid that day, if there is one,
else the shipped act (``billing.fees.tariff_on``). A row is a version: a new tariff is a
new row from its first day, and the previous version is closed the day before. A row
that an issued invoice used is never changed: the database refuses it (migration 0009),
and the service refuses any new version that would change the price of a day already
billed (``billing.services.tariffs``).

Practice-scoped: row-level security (``practice_id``) keeps each practice's schedule its
own, like every tenant table (core.dbsecurity).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from billing.models.fees import Act
from core.practices.models import Practice


class PracticeTariff(models.Model):
    """One dated tariff of the practice for a code of a nomenclature."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    nomenclature = models.CharField(max_length=8, choices=Act.Nomenclature.choices)
    code = models.CharField(max_length=16)
    label = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Act.Kind.choices, default=Act.Kind.ACT)
    profession = models.CharField(max_length=20, blank=True, default="")  # empty: any
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # inclusive; open when empty
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    amo_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("70"))
    refund_regular = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    refund_preferential = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)  # exclusive, years
    source = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "nomenclature", "code", "profession", "valid_from"],
                name="practice_tariff_unique_version",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="practice_tariff_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="practice_tariff_amount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["practice", "code", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.code} {self.amount} ({self.valid_from})"

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
