"""How far a practice's printer is off when it prints over the pre-printed feuille de
soins: a correction in millimetres, measured once from a test print.

One row per printer of the practice (the desk's, the consulting room's...); the values
printed over the form are shifted by the chosen printer's correction.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from core.practices.models import Practice

# A printer further off than this is not miscalibrated but misfed: refuse the value.
MAX_OFFSET_MM = Decimal("20")


class PrinterOffset(models.Model):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    printer = models.CharField(max_length=60)  # the name the practice knows it by
    # positive x moves the values to the right, positive y moves them down
    x_mm = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("0"))
    y_mm = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "printer"], name="printer_offset_unique_name"
            ),
            models.CheckConstraint(
                condition=models.Q(x_mm__gte=-MAX_OFFSET_MM, x_mm__lte=MAX_OFFSET_MM)
                & models.Q(y_mm__gte=-MAX_OFFSET_MM, y_mm__lte=MAX_OFFSET_MM),
                name="printer_offset_within_20mm",
            ),
        ]

    def __str__(self) -> str:
        return self.printer
