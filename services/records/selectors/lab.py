"""What laboratory intake may know of the record: which patients of the practice carry
an identity — to file a result only on a certain match — and who they are, for a person
choosing in the matching queue (identity only, never a clinical value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import CharField, F, Func, Q, Value
from django.db.models.functions import Lower

from records.models import Patient


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    birth_date: date | None
    sex: str
    gp_id: int | None
    has_nir: bool


def _folded(expression: object) -> Func:
    return Lower(Func(expression, function="carnet_unaccent", output_field=CharField()))


def fold(text: str) -> str:
    """The fold the database applies (lower case, no accents), for Python-side checks."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _candidate(patient: Patient) -> Candidate:
    return Candidate(
        id=patient.pk,
        name=patient.display_name,
        birth_date=patient.birth_date,
        sex=patient.sex,
        gp_id=patient.gp_id,
        has_nir=bool(patient.nir),
    )


def patients_with_identity(
    *, family: str, given: str, birth_date: date | None, nir: str
) -> tuple[list[Candidate], list[Candidate]]:
    """(by identity, by NIR): the patients whose birth date is ``birth_date`` and whose
    birth or used name is ``family`` and first given name the first of ``given``, case
    and accents aside; and the patients whose NIR starts with the 13 digits ``nir``."""
    by_identity: list[Candidate] = []
    if family.strip() and birth_date is not None:
        first_given = fold(given).replace("-", " ").split(" ")[0] if given.strip() else ""
        family_folded = Value(fold(family), output_field=CharField())
        found = (
            Patient.objects.filter(birth_date=birth_date)
            .alias(
                _birth=_folded(F("birth_name")),
                _used=_folded(F("used_name")),
                _given=_folded(F("given_names")),
            )
            .filter(Q(_birth=family_folded) | Q(_used=family_folded))
        )
        if first_given:
            found = found.filter(
                Q(_given=Value(first_given))
                | Q(_given__startswith=Value(first_given + " "))
                | Q(_given__startswith=Value(first_given + "-"))
                | Q(_given__startswith=Value(first_given + ","))
            )
        by_identity = [_candidate(p) for p in found.order_by("pk")[:10]]
    by_nir: list[Candidate] = []
    if nir:
        by_nir = [
            _candidate(p) for p in Patient.objects.filter(nir__startswith=nir).order_by("pk")[:10]
        ]
    return by_identity, by_nir


def patient_candidate(patient_id: int) -> Candidate | None:
    """One patient of the practice as the matching queue shows them."""
    patient = Patient.objects.filter(pk=patient_id).first()
    return _candidate(patient) if patient else None
