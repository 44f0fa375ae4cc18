"""Patient identity and care team. Every table carries ``practice_id`` (row-level security)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice
from core.quickload import QuickLoad


class Patient(QuickLoad, models.Model):
    """A patient of one practice: identity and contact (no clinical content here)."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        OTHER = "X", _("Other / unknown")

    class Contact(models.TextChoices):
        """How the practice reaches the patient. ``paper`` is a first-class case: no
        phone, no e-mail; letters by post and news at the desk."""

        PHONE_OR_EMAIL = "phone", _("By phone or e-mail")
        PAPER = "paper", _("Paper only: no phone, no e-mail (by post or at the desk)")

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
    # Empty for patients registered before the choice was asked. A database default
    # too: bulk loads (carnet_demo/volume.py) and raw inserts need not name it.
    contact_preference = models.CharField(
        _("how to reach the patient"),
        max_length=10,
        choices=Contact.choices,
        blank=True,
        default="",
        db_default="",
    )
    gp = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("GP of record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    gp_since = models.DateField(_("GP of record since"), null=True, blank=True)
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
        return display_name(self.birth_name, self.used_name, self.given_names, self.sex)


class IdentityChange(models.Model):
    """One change to a patient's identity, contact details, GP of record or death: who,
    when, why, and each changed field's value before and after. The patient row holds
    only the current values; this is how the old ones stay readable.

    ``changes`` maps a field name to ``[before, after]``, as text (dates in ISO form,
    the GP of record by name, so the history reads the same if the person leaves).
    """

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Identity corrected")
        DEATH = "death", _("Death recorded")
        GP = "gp", _("GP of record changed")
        MERGE = "merge", _("Duplicate record merged")

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    changes = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    # The GP of record's "since", or the date of death: the date the change is about.
    effective_on = models.DateField(null=True, blank=True)
    # The patient's version once the change was made.
    version = models.PositiveIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "-changed_at"], name="identity_change_by_patient")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.changed_at:%Y-%m-%d})"

    def lines(self) -> list[tuple[str, str, str]]:
        """Each changed field as (its label, before, after), in words."""
        return [
            (field_label(name), shown(name, before), shown(name, after))
            for name, (before, after) in self.changes.items()
        ]


def _patient_field(name: str) -> models.Field[Any, Any] | None:
    try:
        field = Patient._meta.get_field(name)
    except FieldDoesNotExist:  # a field that no longer exists
        return None
    return field if isinstance(field, models.Field) else None


def field_label(name: str) -> str:
    """A patient field's name in words, in the active language (a field that no longer
    exists: its name, as stored)."""
    field = _patient_field(name)
    return str(field.verbose_name) if field is not None else name


def shown(name: str, value: str | None) -> str:
    """A stored value as the pages show it (dates as dd/mm/yyyy, choices by label)."""
    from datetime import date

    if value in (None, ""):
        return "—"
    assert value is not None
    field = _patient_field(name)
    if field is None:
        return value
    if isinstance(field, models.DateField):
        try:
            return formats.date_format(date.fromisoformat(value), "d/m/Y")
        except ValueError:
            return value
    if isinstance(field, models.BooleanField):
        return str(_("yes") if value in ("True", "true", "1") else _("no"))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return value


class CareTeamMember(QuickLoad, models.Model):
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
    typos) is matched against, a few thousand words instead of every name."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    word = models.TextField()
    # How the word sounds in French (``carnet_name_key``, migration 0009): "berger" and
    # "berjer", "philippe" and "filipe" have the same key.
    key = models.GeneratedField(
        expression=models.Func("word", function="carnet_name_key"),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "word"], name="name_word_once")]


class NameKey(models.Model):
    """A lookup key of a dictionary word (``carnet_word_keys``, migration 0009): the word
    and its phonetic key with one letter deleted, or halves of long words. A typed term
    with up to its budget of typos shares a key with the word, so the search finds the
    candidates by B-tree equality (allowed under row-level security), then counts the
    edits on those few."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.TextField()
    word = models.TextField()

    class Meta:
        # word last: the search reads it from the index alone.
        indexes = [models.Index(fields=["practice", "key", "word"], name="name_key")]


def display_name(birth_name: str, used_name: str, given_names: str, sex: str) -> str:
    """How a patient is named on every page: the family name used, in capitals, then
    the given names, then the birth name when another is used ("née" for a woman)."""
    family = used_name or birth_name
    born = ""
    if used_name and used_name != birth_name:
        # Outside the f-string, so that the words are found for translation.
        words = _("née %(name)s") if sex == "F" else _("born %(name)s")
        born = " (" + str(words) % {"name": birth_name} + ")"
    return f"{family.upper()} {given_names}{born}"
