"""Reference data shared by every practice of a node (no patient data, no practice_id):
the French public drug database (BDPM) with its compositions, generic groups and ATC
codes, the ANSM interaction thesaurus, the WHO ATC classes and the CIM-10 classification.

The application role may only read these tables: ``carnet load_reference`` (the owner
role) loads them from the files in ``records/data/``."""

from __future__ import annotations

import re

from django.contrib.postgres.indexes import GinIndex
from django.db import models

CIM10_CODE_PATTERN = re.compile(r"[A-Z]\d{2}[0-9+]*")


def letters_of(column: str) -> models.Func:
    """How many letters and digits a searched text has: what a search's terms can cover
    of it (records/word_search.py), kept by PostgreSQL rather than counted per search."""
    alnum = models.Func(
        column,
        models.Value("[^[:alnum:]]"),
        models.Value(""),
        models.Value("g"),
        function="regexp_replace",
    )
    return models.Func(alnum, function="length")


class Drug(models.Model):
    """A medicinal product of the BDPM, identified by its CIS code."""

    cis = models.CharField(max_length=8, primary_key=True)
    name = models.CharField(max_length=300)  # dénomination, e.g. "DOLIPRANE 1000 mg, comprimé"
    form = models.CharField(max_length=200, blank=True)
    routes = models.CharField(max_length=200, blank=True)
    marketed = models.BooleanField(default=True)
    holder = models.CharField(max_length=300, blank=True)
    # A vaccine (the shipped list of BDPM vaccines, records/data/vaccins_bdpm*.tsv): the
    # vaccination form and API pick from these only.
    vaccine = models.BooleanField(default=False, db_default=False)
    # Maintained by the loader: the unaccented, lower-case name, whose words
    # (``DrugWord``) the search matches.
    search_name = models.TextField(default="")
    search_letters = models.GeneratedField(
        expression=letters_of("search_name"), output_field=models.IntegerField(), db_persist=True
    )
    # Built by the loader from the compositions (CIS_COMPO): the active substances in
    # DCI with their dosage, and the form, e.g. "AMOXICILLINE 500 mg, comprimé".
    dci = models.CharField(max_length=300, blank=True, default="", db_default="")
    # From CIS_MITM (medicines of major therapeutic interest): not every drug has one.
    atc = models.CharField(max_length=8, blank=True, default="", db_default="")
    # The BDPM generic group (CIS_GENER) the product belongs to, if any.
    generic_group = models.CharField(max_length=300, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return self.name


class Cim10Code(models.Model):
    """A CIM-10 (French ICD-10) code with its label."""

    code = models.CharField(max_length=8, primary_key=True)  # without the dot, e.g. "E119"
    label = models.CharField(max_length=300)
    # The unaccented, lower-case full label, whose words (``Cim10Word``) are searched.
    search_label = models.TextField(default="")
    search_letters = models.GeneratedField(
        expression=letters_of("search_label"), output_field=models.IntegerField(), db_persist=True
    )

    def __str__(self) -> str:
        return f"{self.dotted} {self.label}"

    @property
    def dotted(self) -> str:
        return f"{self.code[:3]}.{self.code[3:]}" if len(self.code) > 3 else self.code

    @staticmethod
    def normalise(text: str) -> str | None:
        """ "E11.9", "e119" or " E11 " -> the code as stored ("E119", "E11"); else None."""
        code = text.strip().upper().replace(".", "")
        return code if CIM10_CODE_PATTERN.fullmatch(code) else None


class Substance(models.Model):
    """An active substance of the BDPM compositions (CIS_COMPO), by its substance code.

    ``moiety`` is the name without its salt or hydrate ("AMOXICILLINE TRIHYDRATÉE" and
    "AMOXICILLINE SODIQUE" are both "amoxicilline"): an allergy to a substance is an
    allergy to its moiety, whatever the salt. ``interaction_key`` is the name the ANSM
    thesaurus knows it by (empty when it is not in the thesaurus: its interactions are
    then "not checked"). ``atc`` is the ATC code of the moiety, read from the products
    that contain it alone (empty when none has one).
    """

    code = models.CharField(max_length=8, primary_key=True)  # e.g. "05248"
    name = models.CharField(max_length=300)  # as in the BDPM, e.g. "AMOXICILLINE ANHYDRE"
    moiety = models.CharField(max_length=300, db_index=True)
    interaction_key = models.CharField(max_length=300, blank=True, default="")
    atc = models.CharField(max_length=8, blank=True, default="")
    search_name = models.TextField(default="")

    class Meta:
        indexes = [
            GinIndex(
                fields=["search_name"], opclasses=["gin_trgm_ops"], name="substance_search_trgm"
            )
        ]

    def __str__(self) -> str:
        return self.name


class DrugComponent(models.Model):
    """One line of a drug's composition (CIS_COMPO): a substance and its dosage.

    ``nature`` is "SA" (active substance) or "FT" (therapeutic fraction); lines with the
    same ``link`` describe one substance (the salt as SA, the moiety as FT), and the
    printed DCI takes the FT when there is one.
    """

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="components")
    substance = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="+")
    element = models.CharField(max_length=200, blank=True)  # "comprimé", "poudre"...
    dosage = models.CharField(max_length=200, blank=True)  # "500 mg"
    reference = models.CharField(max_length=200, blank=True)  # "un comprimé"
    nature = models.CharField(max_length=2)
    link = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["drug"])]

    def __str__(self) -> str:
        return f"{self.substance_id} {self.dosage}"


class AtcClass(models.Model):
    """A class or substance of the WHO ATC classification, with WHO's English label
    (levels 2 to 5; e.g. J01C "BETA-LACTAM ANTIBACTERIALS, PENICILLINS")."""

    code = models.CharField(max_length=8, primary_key=True)
    label = models.CharField(max_length=300)
    search_label = models.TextField(default="")

    class Meta:
        indexes = [
            GinIndex(fields=["search_label"], opclasses=["gin_trgm_ops"], name="atc_search_trgm")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class InteractionClassMember(models.Model):
    """A substance of the ANSM "index des substances" and one class it belongs to
    (e.g. warfarine: antivitamines K). Both are stored as normalised keys."""

    substance_key = models.CharField(max_length=300, db_index=True)
    class_key = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["substance_key", "class_key"], name="interaction_member_unique"
            )
        ]


class Interaction(models.Model):
    """One pair of the ANSM interaction thesaurus, as published: substance or class A,
    B, the level and the texts (risk and conduct), unaltered. ``a_key`` / ``b_key`` are
    the normalised names used to match substances and classes."""

    class Level(models.TextChoices):
        CONTRAINDICATION = "CI", "Contre-indication"
        NOT_RECOMMENDED = "AD", "Association déconseillée"
        PRECAUTION = "PE", "Précaution d'emploi"
        TAKE_INTO_ACCOUNT = "APEC", "À prendre en compte"

    a = models.CharField(max_length=300)
    b = models.CharField(max_length=300)
    a_key = models.CharField(max_length=300)
    b_key = models.CharField(max_length=300)
    level = models.CharField(max_length=4, choices=Level.choices)
    levels = models.CharField(max_length=20)  # every level the entry names, e.g. "CI|AD|PE"
    risk = models.TextField(blank=True)
    conduct = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["a_key", "b_key"])]

    def __str__(self) -> str:
        return f"{self.a} + {self.b} ({self.level})"


# The words of the drug names and CIM-10 labels, for the search that forgives typos
# (records/word_search.py): the same tables and lookup keys as the patients' names
# (``PatientWord``, ``NameWord``, ``NameKey``), without practice: reference data is the
# same for every practice. Triggers on the drug and CIM-10 tables keep them (migration
# records/0013); the application role may only read them.


class ReferenceWord(models.Model):
    """Every word of the drug names and CIM-10 labels, once, with its French phonetic
    key (``carnet_name_key``): what a typed term is matched against."""

    word = models.TextField()
    key = models.GeneratedField(
        expression=models.Func("word", function="carnet_name_key"),
        output_field=models.TextField(),
        db_persist=True,
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["word"], name="reference_word_once")]


class ReferenceKey(models.Model):
    """A lookup key of a reference word (``carnet_word_keys``): a typed term within its
    budget of typos shares one with the word, found by B-tree equality."""

    key = models.TextField()
    word = models.TextField()

    class Meta:
        # word last: the search reads it from the index alone.
        indexes = [models.Index(fields=["key", "word"], name="reference_key")]


class DrugWord(models.Model):
    """One word of a drug's search name."""

    drug = models.ForeignKey(
        Drug, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    word = models.TextField()

    class Meta:
        # drug last: the search reads it from the index alone.
        indexes = [models.Index(fields=["word", "drug"], name="drug_word")]


class Cim10Word(models.Model):
    """One word of a CIM-10 code's full label."""

    code = models.ForeignKey(
        Cim10Code,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    word = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["word", "code"], name="cim10_word")]
