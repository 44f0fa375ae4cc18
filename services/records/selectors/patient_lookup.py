"""Finding patients by their separate identity fields (family name, given names, birth
date, sex, NIR), as a structured search does (the FHIR API): exact rules, no ranking.

The search box's forgiving search is ``records.selectors.patients.patient_search``; this
one matches names the way FHIR string parameters do: case and accents ignored, the
value at the start of the name or of one of its words (``starts``), the whole name or
one whole word as typed (``exact``), or anywhere (``contains``).

Through indexes, under row-level security: a name term that matches at the start of a
word (``starts`` and ``exact``) first narrows the search to the patients having a word
of their name that begins with the term's first word, by the word tables of the search
box (``records_nameword``, ``records_patientword``: B-tree ranges and equalities, which
PostgreSQL may use before the tenant policy). The rules above are then applied to those
few patients only. ``contains`` has no such index: it reads the practice's patients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, CharField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from core.access.policy import Actor, Category
from core.audit.services import record_event
from records.models import Patient
from records.selectors.patients import _excluding, authorize_search

FAMILY_FIELDS = ("birth_name", "used_name")
GIVEN_FIELDS = ("given_names",)


@dataclass(frozen=True)
class NameTerm:
    """One value of a name parameter and how it must match."""

    value: str
    how: str = "starts"  # starts | exact | contains


def _folded(expression: Any) -> Func:
    """Lower case, without accents: the way ``search_name`` is folded."""
    return Lower(Func(expression, function="carnet_unaccent", output_field=CharField()))


def _one_field_matches(field: str, term: NameTerm) -> Q:
    if term.how == "exact":
        # A whole name, or one whole word of it, exactly as typed.
        word = r"(^|[\s,-])" + _regex_literal(term.value) + r"($|[\s,-])"
        return Q(**{field: term.value}) | Q(**{f"{field}__regex": word})
    folded_value = _folded(Value(term.value, output_field=CharField()))
    alias = f"_folded_{field}"
    if term.how == "contains":
        return Q(**{f"{alias}__contains": folded_value})
    return (
        Q(**{f"{alias}__startswith": folded_value})
        | Q(**{f"{alias}__contains": Func(Value(" "), folded_value, function="CONCAT")})
        | Q(**{f"{alias}__contains": Func(Value("-"), folded_value, function="CONCAT")})
    )


def _regex_literal(value: str) -> str:
    """The value as a PostgreSQL regular expression matching it literally."""
    return "".join(char if char.isalnum() else "\\" + char for char in value)


# The first word of a typed value, folded and split as the names' words are
# (records.search_text.WORD_SEPARATORS, migration 0010's carnet_name_words).
_FIRST_WORD = (
    "(regexp_split_to_array(lower(carnet_unaccent(%s)), '[[:space:]''\u2019\u2018.,;:/()_-]+'))[1]"
)
# The dictionary words beginning with it (a B-tree range, as records.selectors.patients).
_WORDS_BEGINNING = (
    'SELECT b.word FROM records_nameword b WHERE b.word COLLATE "C" >= {first}'
    ' AND b.word COLLATE "C" < {first} || chr(1114111)'
)


def words_beginning(alternatives: Sequence[NameTerm]) -> Q:
    """The patients having a word of their name that begins with the first word of one
    of the alternatives: every patient a ``starts`` or ``exact`` term can find, and
    few others (an index lookup; the name rules decide after). No condition when an
    alternative can match inside a word (``contains``)."""
    if not alternatives or any(term.how == "contains" for term in alternatives):
        return Q()
    # Each alternative's value is used twice (the range's two ends).
    words = " UNION ALL ".join(_WORDS_BEGINNING.format(first=_FIRST_WORD) for _ in alternatives)
    values = [term.value for term in alternatives for _end in range(2)]
    # Fixed SQL fragments only: every value is a bound parameter.
    sql = f"SELECT pw.patient_id FROM records_patientword pw WHERE pw.word = ANY (ARRAY({words}))"  # noqa: S608  # nosec B608
    return Q(_IdAmong(F("pk"), RawSQL(sql, values)))  # noqa: S611  # nosec B611


class _IdAmong(Func):
    """``id = ANY (ARRAY(subquery))``: the patients read by primary key (an equality,
    which PostgreSQL may use before the tenant policy), not the practice's patients
    each checked against the subquery."""

    arg_joiner = " = ANY (ARRAY("
    template = "%(expressions)s))"
    output_field = BooleanField()


def name_condition(fields: Sequence[str], alternatives: Sequence[NameTerm]) -> Q:
    """Any of the alternatives (a FHIR comma list) matching any of the fields."""
    condition = Q(pk__in=[])
    for term in alternatives:
        for field in fields:
            condition |= _one_field_matches(field, term)
    return condition


def patients_found(
    *,
    actor: Actor,
    family: Sequence[Sequence[NameTerm]] = (),
    given: Sequence[Sequence[NameTerm]] = (),
    name: Sequence[Sequence[NameTerm]] = (),
    where: Q | None = None,
    described_as: str = "",
) -> QuerySet[Patient]:
    """The practice's patients matching every condition (each inner list: any of its
    terms), unordered. ``where`` filters on the patient's own columns (birth_date, sex,
    nir, pk, updated_at). Merged duplicates and the patients who excluded the actor from
    their whole record are never found. The search is authorized and audited here
    (``patient.search``, with ``described_as``)."""
    if actor.practice_id is None:
        return Patient.objects.none()
    authorize_search(actor)
    record_event(
        "patient.search",
        actor=actor,
        practice_id=actor.practice_id,
        category=Category.IDENTITY.value,
        details={"query": described_as[:100], "view": "fhir"},
    )
    patients = (
        Patient.objects.filter(merged_into__isnull=True)
        .exclude(pk__in=_excluding(actor.person_id))
        .select_related("gp")
    )
    folded = {f"_folded_{field}": _folded(F(field)) for field in (*FAMILY_FIELDS, *GIVEN_FIELDS)}
    patients = patients.alias(**folded)
    for alternatives in family:
        patients = patients.filter(words_beginning(alternatives))
        patients = patients.filter(name_condition(FAMILY_FIELDS, alternatives))
    for alternatives in given:
        patients = patients.filter(words_beginning(alternatives))
        patients = patients.filter(name_condition(GIVEN_FIELDS, alternatives))
    for alternatives in name:
        patients = patients.filter(words_beginning(alternatives))
        patients = patients.filter(name_condition((*FAMILY_FIELDS, *GIVEN_FIELDS), alternatives))
    if where is not None:
        patients = patients.filter(where)
    return patients
