"""Reference data shared by every practice of a node (no patient data, no practice_id):
the French public drug database (BDPM) and the CIM-10 classification."""

from __future__ import annotations

import re

from django.contrib.postgres.indexes import GinIndex
from django.db import models

CIM10_CODE_PATTERN = re.compile(r"[A-Z]\d{2}[0-9+]*")


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
    # Maintained by the loader: unaccented, lower-case name for trigram search.
    search_name = models.TextField(default="")

    class Meta:
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="drug_search_trgm")
        ]

    def __str__(self) -> str:
        return self.name


class Cim10Code(models.Model):
    """A CIM-10 (French ICD-10) code with its label."""

    code = models.CharField(max_length=8, primary_key=True)  # without the dot, e.g. "E119"
    label = models.CharField(max_length=300)
    search_label = models.TextField(default="")

    class Meta:
        indexes = [
            GinIndex(fields=["search_label"], opclasses=["gin_trgm_ops"], name="cim10_search_trgm")
        ]

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
