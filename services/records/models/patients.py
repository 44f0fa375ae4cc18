"""Patient identity and care team. Every table carries ``practice_id`` (row-level security)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice


class Patient(models.Model):
    """A patient of one practice: identity and contact (no clinical content here)."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "X", _("Other / unknown")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    birth_name = models.CharField(_("birth name"), max_length=100)
    used_name = models.CharField(_("used name"), max_length=100, blank=True)
    given_names = models.CharField(_("first names"), max_length=150)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    birth_place = models.CharField(_("birth place"), max_length=100, blank=True)
    nir = models.CharField(_("NIR"), max_length=15, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    gp = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("GP of record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deceased_on = models.DateField(_("date of death"), null=True, blank=True)
    trusted_person_name = models.CharField(_("trusted person"), max_length=200, blank=True)
    trusted_person_relation = models.CharField(_("relationship"), max_length=100, blank=True)
    trusted_person_phone = models.CharField(_("trusted person's phone"), max_length=30, blank=True)
    advance_directives = models.BooleanField(_("has written advance directives"), default=False)
    advance_directives_location = models.CharField(
        _("where the advance directives are kept"), max_length=200, blank=True
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Maintained by a trigger: unaccented, lower-case names, indexed with pg_trgm.
    search_name = models.TextField(default="", editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "nir"],
                condition=~models.Q(nir=""),
                name="patient_unique_nir_per_practice",
            )
        ]
        indexes = [
            models.Index(fields=["practice", "birth_name", "given_names"]),
            models.Index(fields=["practice", "birth_date"]),
            GinIndex(
                fields=["search_name"], opclasses=["gin_trgm_ops"], name="patient_search_trgm"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        family = self.used_name or self.birth_name
        born = (
            f" ({_('born')} {self.birth_name})"
            if self.used_name and self.used_name != self.birth_name
            else ""
        )
        return f"{family.upper()} {self.given_names}{born}"


class CareTeamMember(models.Model):
    """A practitioner who takes part in the patient's care (the GP of record is one)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    since = models.DateField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "person"], name="care_team_unique_member")
        ]


# The search's word tables. Both are written only by triggers on records_patient
# (migration 0006) and are derived from ``search_name``: they are not exported with a
# practice, an import rebuilds them. See records/selectors/patients.py.


class PatientWord(models.Model):
    """One word of a patient's search name: the search reaches patients by exact words
    through a B-tree index, which row-level security lets PostgreSQL use."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    word = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "word"], name="patient_word_once")
        ]
        # patient_id last: the search reads it from the index alone.
        indexes = [models.Index(fields=["practice", "word", "patient"], name="patient_word")]


class NameWord(models.Model):
    """Every word of the practice's patients' names, once: what a typed term (with its
    typo) is matched against by trigrams, a few thousand words instead of every name."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    word = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "word"], name="name_word_once")]
