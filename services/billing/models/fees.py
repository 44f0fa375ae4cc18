"""Fee schedules as dated data: every act and its tariff has a validity period, and the
rules that combine acts are data too — a new convention is a new file, not new code.

The same tables hold the French NGAP and CCAM and the Belgian INAMI nomenclature.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q


class ActManager(models.Manager["Act"]):
    def get_by_natural_key(
        self, nomenclature: str, code: str, valid_from: str, profession: str = ""
    ) -> Act:
        return self.get(
            nomenclature=nomenclature, code=code, valid_from=valid_from, profession=profession
        )


class Act(models.Model):
    """One billable act (or modifier) of a nomenclature, valid over a period.

    Its natural key (nomenclature, code, start of validity, profession) is the same on
    every node, so exported invoice lines find their act again on another node."""

    class Nomenclature(models.TextChoices):
        NGAP = "NGAP", "NGAP"
        CCAM = "CCAM", "CCAM"
        INAMI = "INAMI", "INAMI/RIZIV"
        COOPERATIVE = "COOP", "cooperative dues"

    class Kind(models.TextChoices):
        ACT = "act", "act"
        MODIFIER = "modifier", "modifier"  # a majoration added to an act (MEG, MD, MUT...)
        EXCESS = "excess", "excess fee"  # DE: not reimbursed, amount set by the practitioner
        # A key letter (AMI, AMK, SF...): ``amount`` is the value of coefficient 1, the
        # invoice line gives the coefficient of the act (AMI 4 = 4 x AMI).
        KEY = "key", "key letter"
        # Per kilometre (IK): the invoice line's quantity is the distance billed.
        DISTANCE = "distance", "per kilometre"

    country = models.CharField(max_length=2)
    nomenclature = models.CharField(max_length=8, choices=Nomenclature.choices)
    code = models.CharField(max_length=16)
    label = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ACT)
    # The profession that bills this row (Person.Profession: nurse, physio, midwife...);
    # empty: any. One code may have a value per profession (IFD, IK).
    profession = models.CharField(max_length=20, blank=True, default="", db_default="")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # inclusive; open when empty
    amount = models.DecimalField(max_digits=10, decimal_places=2)  # base tariff (€)
    # France: usual reimbursement rate by the mandatory insurer, in percent.
    amo_rate = models.DecimalField(max_digits=5, decimal_places=2, default=70)
    # Belgium: reimbursement with and without preferential status (BIM).
    refund_regular = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    refund_preferential = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True
    )
    key_letter = models.CharField(max_length=8, blank=True)
    coefficient = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)  # exclusive, years
    source = models.CharField(max_length=200, blank=True)

    objects = ActManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["nomenclature", "code", "profession", "valid_from"],
                name="act_unique_version",
            )
        ]
        indexes = [models.Index(fields=["nomenclature", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def natural_key(self) -> tuple[str, str, str, str]:
        return (self.nomenclature, self.code, self.valid_from.isoformat(), self.profession)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @staticmethod
    def valid_on_q(day: date) -> Q:
        return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class CombinationRule(models.Model):
    """How codes combine on one invoice line set, valid over a period.

    - ``requires``: ``code`` may only be billed with one of ``others`` (MEG with G/VG...);
    - ``excludes``: ``code`` may not be billed with any of ``others``;
    - ``single``: ``code`` is billed once, quantity 1 (one IFD per visit).
    """

    class Kind(models.TextChoices):
        REQUIRES = "requires", "requires one of"
        EXCLUDES = "excludes", "excludes"
        SINGLE = "single", "once per invoice"

    nomenclature = models.CharField(max_length=8)
    code = models.CharField(max_length=16)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    others = models.JSONField()  # list of codes
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.code} {self.kind} {', '.join(self.others)}"
