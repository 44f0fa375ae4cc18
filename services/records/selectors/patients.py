"""Reading patients. Row-level security already limits rows to the current practice;
the policy decides what the actor may see of each patient."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext as _

from core.access.models import Restriction
from core.access.policy import Action, Actor, Category
from core.audit.services import record_event
from core.prepared import Bound, Prepared, PreparedModelSQL, fetch_together
from records import access, search_text
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
# only), how many birth dates and NIRs, the limit.
_SEARCHES: dict[tuple[Any, ...], PreparedModelSQL] = {}


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
    values.update((f"t{index}", term) for index, term in enumerate(names))
    shape = (tuple(search_text.is_short(term) for term in names), len(dates), len(nirs))
    search = _SEARCHES.get(shape)
    if search is None:
        search = _SEARCHES[shape] = PreparedModelSQL(
            _search_sql(*shape),
            Patient,
            alias="p",
            annotations=["exact", "edits", "coverage"],
        )
    return search.all(**values)


# A typed term, as the names are stored (search_name: unaccented, lower case).
_TERM = "lower(carnet_unaccent(%(t{index})s))"

# The dictionary words a term finds, with their edits: the word itself, the words that
# begin with it, the words that sound the same in French (same phonetic key), and the
# words within their budget of edits (sharing one of its lookup keys: records_namekey,
# see migration 0009). Every lookup is a B-tree equality or range, under row-level security.
# The candidates are gathered first (ARRAY: an init plan, then an index lookup of each
# word) and MATERIALIZED: the edits are counted on those few words only, never pushed
# down to a scan of the practice's whole dictionary.
_WORDS = """
w{index} AS MATERIALIZED (
    SELECT w.word, w.word = {term} AS exact,
           CASE WHEN starts_with(w.word, {term}) THEN 0
                WHEN w.key = carnet_name_key({term}) THEN 0
                ELSE carnet_edits({term}, w.word) END AS edits,
           CASE WHEN starts_with(w.word, {term}) THEN length({term})
                ELSE length(w.word) END AS covered
    FROM records_nameword w
    WHERE w.word = ANY (ARRAY({candidates}))
)"""
_BEGINNING = (
    'SELECT b.word FROM records_nameword b WHERE b.word COLLATE "C" >= {term}'
    ' AND b.word COLLATE "C" < {term} || chr(1114111)'
)
_BY_KEY = "SELECT k.word FROM records_namekey k WHERE k.key = ANY (carnet_term_keys({term}))"
# The patients having one of those words, each with the best of their words.
_PATIENTS = """
m{index} AS (
    SELECT pw.patient_id, bool_or(w{index}.exact) AS exact, min(w{index}.edits) AS edits,
           max(w{index}.covered) AS covered
    FROM w{index} JOIN records_patientword pw ON pw.word = w{index}.word
    WHERE w{index}.edits IS NOT NULL
    GROUP BY pw.patient_id
)"""


def _search_sql(short: tuple[bool, ...], dates: int, nirs: int) -> str:
    """The search statement for one shape (parameters: ``t0``… name terms, ``d0``…
    birth dates, ``n0``… NIR patterns, ``person``, ``limit``)."""
    ctes = []
    joins = []
    for index, is_short in enumerate(short):
        term = _TERM.format(index=index)
        candidates = _BEGINNING.format(term=term)
        if not is_short:
            candidates += " UNION ALL " + _BY_KEY.format(term=term)
        ctes.append(_WORDS.format(index=index, term=term, candidates=candidates))
        ctes.append(_PATIENTS.format(index=index))
    if short:
        # The patients every term found, before any patient row is read (MATERIALIZED:
        # otherwise PostgreSQL may read the patients of a common first name first).
        sums = {
            "exact": " AND ".join(f"m{index}.exact" for index in range(len(short))),
            "edits": " + ".join(f"m{index}.edits" for index in range(len(short))),
            "covered": " + ".join(f"m{index}.covered" for index in range(len(short))),
        }
        together = " ".join(f"JOIN m{index} USING (patient_id)" for index in range(1, len(short)))
        selected = ", ".join(f"{value} AS {name}" for name, value in sums.items())
        hits = f"hits AS MATERIALIZED (SELECT patient_id, {selected} FROM m0 {together})"  # noqa: S608  # nosec B608
        ctes.append(hits)
        joins.append("JOIN hits ON hits.patient_id = p.id")
        # and read by primary key (an array: its size is not misjudged as a join's).
        id_lookup = ["p.id = ANY (ARRAY(SELECT patient_id FROM hits))"]
    else:
        id_lookup = []
    excluding, excluding_values = _excluding_sql()
    where = [*id_lookup, "p.merged_into_id IS NULL", f"p.id NOT IN ({excluding})"]
    where += [f"p.birth_date = %(d{index})s" for index in range(dates)]
    where += [f"p.nir LIKE %(n{index})s" for index in range(nirs)]
    if short:
        exact, edits, covered = "hits.exact", "hits.edits", "hits.covered"
        # The share of the name's letters the terms cover; terms covering more than the
        # name ("bernard bernard" on Bernard Marie) count as covering less.
        letters = "greatest(1, length(replace(p.search_name, ' ', '')))"
        coverage = (
            f"least(({covered})::float / {letters}, {letters}::float / greatest(1, {covered}))"
        )
    else:
        exact, edits, coverage = "true", "0", "0::float"
    with_clause = ("WITH " + ",".join(ctes)) if ctes else ""
    # Fixed SQL fragments only: every value of the query is a bound parameter.
    sql = f"""{with_clause}
SELECT {{columns}}, {exact} AS exact, {edits} AS edits, {coverage} AS coverage
FROM records_patient p {" ".join(joins)}
WHERE {" AND ".join(where)}
ORDER BY exact DESC, edits, coverage DESC, p.birth_name, p.given_names, p.birth_date, p.id
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
    from core.access.policy import PatientFacts, Purpose
    from core.access.services import require

    assert actor.practice_id is not None
    require(
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
    access.require(
        actor, Action.READ, category, patient, access=patient_access, audit_success=audit_success
    )
    return patient


# The patient (with the GP of record) and what the policy needs about them, in one
# round trip (core.prepared): the start of every read of a record.
PATIENT = Prepared(lambda patient: Patient.objects.filter(pk=patient).select_related("gp"))


def patient_with_access(patient_id: int) -> tuple[Patient, access.PatientAccess]:
    """The patient of this practice (404 otherwise) and the facts for the policy."""
    patient, patient_access, _more = patient_with_access_and(patient_id)
    return patient, patient_access


def patients_with_access(
    patient_ids: list[int],
) -> dict[int, tuple[Patient, access.PatientAccess]]:
    """``patient_with_access`` for several patients in one round trip: those of this
    practice, by id (another practice's are not found)."""
    statements: list[Bound] = []
    for patient_id in patient_ids:
        statements += [PATIENT.bind(patient=patient_id), *access.statements_for(patient_id)]
    results = fetch_together(*statements) if statements else []
    found = {}
    for index, patient_id in enumerate(patient_ids):
        rows, team, choice_rows = results[3 * index : 3 * index + 3]
        if rows:
            found[patient_id] = (rows[0], access.access_from(rows[0], team, choice_rows))
    return found


def patient_with_access_and(
    patient_id: int, *more: Bound
) -> tuple[Patient, access.PatientAccess, list[list[Any]]]:
    """``patient_with_access``, with more statements in the same round trip (their
    results, in order). Use them only once the policy allowed the read."""
    found, team, choice_rows, *results = fetch_together(
        PATIENT.bind(patient=patient_id), *access.statements_for(patient_id), *more
    )
    if not found:
        raise Http404(_("No such patient in this practice."))
    return found[0], access.access_from(found[0], team, choice_rows), results


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
