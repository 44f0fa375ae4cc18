"""Reading patients. Row-level security already limits rows to the current practice;
the policy decides what the actor may see of each patient."""

from __future__ import annotations

import functools
import re
from collections.abc import Hashable
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext as _

from core import read_ahead
from core.access.models import Restriction
from core.access.policy import Action, Actor, Category, PatientFacts, Purpose
from core.access.services import require_patient
from core.audit.services import record_event
from core.prepared import Bound, Prepared, PreparedModelSQL, fetch_together
from records import access as records_access
from records import search_text, word_search
from records.models import Patient

DATE_TERM = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
MAX_TERMS = 8


def _birth_date(term: str) -> date | None:
    match = DATE_TERM.match(term)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


# One statement per shape of query (core.prepared): which name terms are short (prefix
# only), how many birth dates and NIRs. Tens of thousands of shapes are possible, a few
# are common: the most recently used are kept.
SEARCHES_KEPT = 128


@functools.lru_cache(maxsize=SEARCHES_KEPT)
def _search_statement(shape: tuple[tuple[bool, ...], int, int]) -> PreparedModelSQL:
    return PreparedModelSQL(
        _search_sql(*shape),
        Patient,
        alias="p",
        annotations=["exact", "edits", "coverage"],
        # Planned for its words each time: a generic plan, kept for the session, once
        # made a search take a second (tests/records/test_search_planned_once.py).
        planned_once=False,
    )


def patient_search(*, actor: Actor, query: str = "", limit: int = 50) -> list[Patient]:
    """Find patients from one search box: name fragments in any order (accents and case
    ignored, typos and French spellings forgiven, the beginning of a word while typing),
    a birth date (JJ/MM/AAAA) or a NIR (or its beginning). The exact names first, then by
    number of edits, then by how much of the name the terms cover. Audited.

    A query that is not text a person could type (a NUL byte, a control character, a
    lone surrogate) finds nobody; ``search_text.problem`` tells the pages why."""
    # Searching reads identities in the actor's practice: the policy must allow it there.
    if actor.practice_id is None:
        return []
    authorize_search(actor)
    if search_text.problem(query) is not None:
        return []
    dates: list[date] = []
    nirs: list[str] = []
    names: list[str] = []
    for term in query.split()[: MAX_TERMS * 2]:
        born = _birth_date(term)
        if born is not None:
            dates.append(born)
        elif DATE_TERM.match(term):
            return []  # a date that does not exist: nobody
        elif term.isdigit() and len(term) >= 5:
            nirs.append(term[:15])
        else:
            names.extend(word[: search_text.LONGEST_WORD] for word in search_text.words(term))
    names, dates, nirs = names[:MAX_TERMS], dates[:MAX_TERMS], nirs[:MAX_TERMS]
    record_event(
        "patient.search",
        actor=actor,
        practice_id=actor.practice_id,
        category=Category.IDENTITY.value,
        details={"query": query[:100]},
    )
    if query.strip() and not (names or dates or nirs):
        return []  # only separators ("_", "-"): nothing to look for (an empty box lists all)
    values: dict[str, Any] = {"person": actor.person_id, "limit": limit}
    values.update((f"d{index}", born) for index, born in enumerate(dates))
    values.update((f"n{index}", nir + "%") for index, nir in enumerate(nirs))
    values.update(word_search.values(names))
    shape = (word_search.shape(names), len(dates), len(nirs))
    return _search_statement(shape).all(**values)


# Names in French order: accents and case do not count first (Émile between Dupont and
# Fabre), then break the ties. Not an ICU collation: the embedded PostgreSQL is built
# without ICU and the machines have no fr_FR locale, so the order is the same everywhere
# by folding with carnet_unaccent (migration records 0003), as the search does.
NAME_ORDER = (
    "lower(carnet_unaccent(p.birth_name)), lower(carnet_unaccent(p.given_names)), "
    "p.birth_name, p.given_names"
)


def _search_sql(short: tuple[bool, ...], dates: int, nirs: int) -> str:
    """The search statement for one shape (parameters: ``t0``… name terms, ``d0``…
    birth dates, ``n0``… NIR patterns, ``person``, ``limit``)."""
    ctes: list[str] = []
    joins = []
    if short:
        ctes = word_search.hits_sql(word_search.PATIENTS, short)
        joins.append("JOIN hits ON hits.item = p.id")
        # and read by primary key (an array: its size is not misjudged as a join's).
        id_lookup = ["p.id = ANY (ARRAY(SELECT item FROM hits))"]
    else:
        id_lookup = []
    excluding, excluding_values = _excluding_sql()
    where = [*id_lookup, "p.merged_into_id IS NULL", f"p.id NOT IN ({excluding})"]
    where += [f"p.birth_date = %(d{index})s" for index in range(dates)]
    where += [f"p.nir LIKE %(n{index})s" for index in range(nirs)]
    if short:
        exact, edits = "hits.exact", "hits.edits"
        coverage = word_search.coverage_sql(
            "hits.covered", "length(replace(p.search_name, ' ', ''))"
        )
    else:
        exact, edits, coverage = "true", "0", "0::float"
    with_clause = ("WITH " + ",".join(ctes)) if ctes else ""
    # Fixed SQL fragments only: every value of the query is a bound parameter.
    sql = f"""{with_clause}
SELECT {{columns}}, {exact} AS exact, {edits} AS edits, {coverage} AS coverage
FROM records_patient p {" ".join(joins)}
WHERE {" AND ".join(where)}
ORDER BY exact DESC, edits, coverage DESC, {NAME_ORDER}, p.birth_date, p.id
LIMIT %(limit)s"""  # noqa: S608  # nosec B608
    for name, value in excluding_values.items():
        sql = sql.replace(f"%({name})s", value)
    return sql


def _excluding_sql() -> tuple[str, dict[str, str]]:
    """``_excluding`` as SQL with a ``%(person)s`` parameter (its constants inlined)."""
    sql, params = _excluding(_PERSON_PLACEHOLDER).query.sql_with_params()
    parts = sql.split("%s")
    out = [parts[0]]
    constants: dict[str, str] = {}
    for index, (param, rest) in enumerate(zip(params, parts[1:], strict=True)):
        if param == _PERSON_PLACEHOLDER:
            out.append("%(person)s")
        else:
            name = f"x{index}"
            out.append(f"%({name})s")
            constants[name] = _sql_literal(param)
        out.append(rest)
    return "".join(out), constants


_PERSON_PLACEHOLDER = -7_340_000_000_001


def _sql_literal(value: Any) -> str:
    if isinstance(value, str) and "'" not in value and "%" not in value:
        return f"'{value}'"
    raise TypeError(f"unexpected constant in the exclusion rule: {value!r}")


def _excluding(person_id: int) -> QuerySet[Restriction, Any]:
    """Patients who excluded this person from their whole record (a subquery)."""
    whole_record = Q(entry_type="") | Q(entry_id__isnull=True)
    return Restriction.objects.filter(
        whole_record, person_id=person_id, revoked_at__isnull=True
    ).values("patient_id")


def authorize_search(actor: Actor) -> None:
    assert actor.practice_id is not None
    require_patient(
        actor,
        Action.READ,
        Category.IDENTITY,
        Purpose.CARE,
        PatientFacts(patient_id=0, practice_id=actor.practice_id),
        target="patient:search",
        audit_success=False,
    )


def patient_get(
    *,
    actor: Actor,
    patient_id: int,
    category: Category = Category.IDENTITY,
    audit_success: bool = True,
) -> Patient:
    """One patient, if the actor may read this category of their data (audited; with
    ``audit_success=False`` the caller records the read itself, with what it read, so
    that one access is one event)."""
    patient, patient_access = patient_with_access(patient_id)
    records_access.require(
        actor, Action.READ, category, patient, access=patient_access, audit_success=audit_success
    )
    return patient


# The patient (with the GP of record) and what the policy needs about them, in one
# round trip (core.prepared): the start of every read of a record.
PATIENT = Prepared(lambda patient: Patient.objects.filter(pk=patient).select_related("gp"))


def patient_with_access(patient_id: int) -> tuple[Patient, records_access.PatientAccess]:
    """The patient of this practice (404 otherwise) and the facts for the policy."""
    patient, patient_access, _more = patient_with_access_and(patient_id)
    return patient, patient_access


def patients_with_access(
    patient_ids: list[int],
) -> dict[int, tuple[Patient, records_access.PatientAccess]]:
    """``patient_with_access`` for several patients in one round trip: those of this
    practice, by id (another practice's are not found)."""
    statements: list[Bound] = []
    for patient_id in patient_ids:
        statements += [PATIENT.bind(patient=patient_id), *records_access.statements_for(patient_id)]
    results = fetch_together(*statements) if statements else []
    found = {}
    for index, patient_id in enumerate(patient_ids):
        rows, team, choice_rows = results[3 * index : 3 * index + 3]
        if rows:
            found[patient_id] = (rows[0], records_access.access_from(rows[0], team, choice_rows))
    return found


def patient_reads_ahead(patient_id: int) -> tuple[Hashable, list[Bound]]:
    """The patient and the policy's facts, as a view names them to be read in its API
    token's round trip (``core.read_ahead``); ``patient_with_access`` then takes them."""
    return ("patient", patient_id), [
        PATIENT.bind(patient=patient_id),
        *records_access.statements_for(patient_id),
    ]


def patient_with_access_and(
    patient_id: int, *more: Bound
) -> tuple[Patient, records_access.PatientAccess, list[list[Any]]]:
    """``patient_with_access``, with more statements in the same round trip (their
    results, in order). Use them only once the policy allowed the read."""
    key, statements = patient_reads_ahead(patient_id)
    ahead = read_ahead.take(key)
    if ahead is None:
        found, team, choice_rows, *results = fetch_together(*statements, *more)
    else:
        found, team, choice_rows = ahead
        results = fetch_together(*more) if more else []
    if not found:
        raise Http404(_("No such patient in this practice."))
    return found[0], records_access.access_from(found[0], team, choice_rows), results


def possible_duplicates(
    *, birth_name: str, given_names: str, birth_date: date | None, nir: str = ""
) -> list[Patient]:
    """Patients that may be the same person: the same NIR, or the same birth date with
    close names (typos, accents, birth or used name)."""
    found: dict[int, Patient] = {}
    if nir:
        for patient in Patient.objects.filter(nir=nir, merged_into__isnull=True):
            found[patient.pk] = patient
    if birth_date is not None:
        names = f"{birth_name} {given_names}"
        similar = (
            Patient.objects.filter(birth_date=birth_date, merged_into__isnull=True)
            .annotate(
                closeness=RawSQL("similarity(lower(carnet_unaccent(%s)), search_name)", [names])
            )
            .filter(closeness__gte=0.35)
            .order_by("-closeness")[:10]
        )
        for patient in similar:
            found.setdefault(patient.pk, patient)
    return list(found.values())


def require_read(actor: Actor, patient_id: int, category: Category) -> None:
    """Judge a read of one category of a patient's data known by id (a write's answer
    sent again, core/idempotency.py): 404 if the patient is not of this practice,
    the policy's refusal (audited) otherwise. The success is audited by the caller."""
    patient, patient_access = patient_with_access(patient_id)
    require_patient(
        actor,
        Action.READ,
        category,
        Purpose.CARE,
        patient_access.facts,
        target=f"patient:{patient.pk}",
        audit_success=False,
    )
