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
from core.prepared import Bound, Prepared, PreparedSQL, fetch_together
from records import access
from records.models import Patient

# Below this word similarity, a term does not match a name (one typo in a 6-letter word
# keeps about 0.55; unrelated names stay under 0.3).
WORD_SIMILARITY_THRESHOLD = "0.45"
DATE_TERM = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _birth_date(term: str) -> date | None:
    match = DATE_TERM.match(term)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


_TRIGRAM_THRESHOLD = PreparedSQL(
    "SELECT set_config('pg_trgm.word_similarity_threshold', %(threshold)s, true)"
)
# One compiled statement per shape of query (core.prepared): how many name terms, which
# are short, how many birth dates, the limit. A query with a NIR is built each time.
_SEARCHES: dict[tuple[Any, ...], Prepared] = {}


def patient_search(*, actor: Actor, query: str = "", limit: int = 50) -> list[Patient]:
    """Find patients from one search box: name fragments in any order (accents, case and
    one typo ignored), a birth date (JJ/MM/AAAA) or a NIR (or its beginning). Ranked by
    how well the names match. Audited."""
    # Searching reads identities in the actor's practice: the policy must allow it there.
    if actor.practice_id is None:
        return []
    authorize_search(actor)
    dates: list[date] = []
    nirs: list[str] = []
    names: list[str] = []
    for term in query.split()[:8]:
        born = _birth_date(term)
        if born is not None:
            dates.append(born)
        elif DATE_TERM.match(term):
            return []  # a date that does not exist: nobody
        elif term.replace(" ", "").isdigit() and len(term) >= 5:
            nirs.append(term)
        else:
            names.append(term[:60])
    record_event(
        "patient.search",
        actor=actor,
        practice_id=actor.practice_id,
        category=Category.IDENTITY.value,
        details={"query": query[:100]},
    )
    values: dict[str, Any] = {"person": actor.person_id}
    values.update((f"d{index}", born) for index, born in enumerate(dates))
    for index, term in enumerate(names):
        values[f"t{index}"] = term
        if len(term) < 3:
            values[f"p{index}"] = re.sub(r"[%_\\]", "", term)  # no LIKE wildcards wanted
    shape = (len(dates), tuple(len(term) < 3 for term in names), limit)
    statements = []
    if names:
        statements.append(_TRIGRAM_THRESHOLD.bind(threshold=WORD_SIMILARITY_THRESHOLD))
    if nirs:  # built each time: ``startswith`` rewrites its value, it cannot be prepared
        if statements:
            fetch_together(*statements)
        return list(_search_queryset(shape, nirs=nirs, **values))
    search = _SEARCHES.get(shape)
    if search is None:
        types = {
            name: date if name[0] == "d" else int if name == "person" else str for name in values
        }
        search = _SEARCHES[shape] = Prepared(
            lambda **v: _search_queryset(shape, nirs=[], **v), **types
        )
    return fetch_together(*statements, search.bind(**values))[-1]


def _search_queryset(
    shape: tuple[Any, ...], *, nirs: list[str], **values: Any
) -> QuerySet[Patient]:
    dates, short, limit = shape
    # A patient who excluded the searcher from their whole record is refused everything,
    # their identity included: they are not listed to that person.
    patients = Patient.objects.filter(merged_into__isnull=True).exclude(
        pk__in=_excluding(values["person"])
    )
    for index in range(dates):
        patients = patients.filter(birth_date=values[f"d{index}"])
    for nir in nirs:
        patients = patients.filter(nir__startswith=nir)
    if not short:
        return patients.order_by("birth_name", "given_names", "birth_date")[:limit]
    score_sql = []
    score_params: list[str] = []
    fuzzy: list[str] = []
    for index, is_short in enumerate(short):
        term = values[f"t{index}"]
        # Each term must match a word of the names; short terms by prefix.
        if is_short:
            patients = patients.extra(
                where=["(' ' || search_name) LIKE ('%% ' || lower(carnet_unaccent(%s)) || '%%')"],
                params=[values[f"p{index}"]],
            )
        else:
            fuzzy.append(term)
            patients = patients.extra(
                where=["word_similarity(lower(carnet_unaccent(%s)), search_name) >= %s"],
                params=[term, WORD_SIMILARITY_THRESHOLD],
            )
        score_sql.append("word_similarity(lower(carnet_unaccent(%s)), search_name)")
        score_params.append(term)
    if fuzzy:
        # Candidates first, by words: each term against the practice's dictionary of
        # name words (trigrams), then the patients having one of the words found, for
        # every term (B-tree, index only). Row-level security applies to both tables.
        candidates = " INTERSECT ".join([_PATIENTS_WITH_A_WORD_LIKE] * len(fuzzy))
        where = f"records_patient.id IN ({candidates})"  # fixed SQL, the terms are bound
        patients = patients.extra(where=[where], params=fuzzy)  # noqa: S610  # nosec B610
    score = RawSQL(" + ".join(score_sql), score_params)  # noqa: S611 - parameters are bound  # nosec B611
    return patients.annotate(score=score).order_by("-score", "birth_name", "given_names")[:limit]


_PATIENTS_WITH_A_WORD_LIKE = (
    "SELECT patient_id FROM records_patientword WHERE word = ANY(ARRAY("
    "SELECT word FROM records_nameword WHERE lower(carnet_unaccent(%s)) <%% word))"
)


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
    *, actor: Actor, patient_id: int, category: Category = Category.IDENTITY
) -> Patient:
    """One patient, if the actor may read this category of their data (audited)."""
    patient, patient_access = patient_with_access(patient_id)
    access.require(actor, Action.READ, category, patient, access=patient_access)
    return patient


# The patient (with the GP of record) and what the policy needs about them, in one
# round trip (core.prepared): the start of every read of a record.
PATIENT = Prepared(lambda patient: Patient.objects.filter(pk=patient).select_related("gp"))


def patient_with_access(patient_id: int) -> tuple[Patient, access.PatientAccess]:
    """The patient of this practice (404 otherwise) and the facts for the policy."""
    patient, patient_access, _more = patient_with_access_and(patient_id)
    return patient, patient_access


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
