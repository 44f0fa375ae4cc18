"""Reading patients. Row-level security already limits rows to the current practice;
the policy decides what the actor may see of each patient."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext as _

from core.access.models import Restriction
from core.access.policy import Action, Actor, Category
from core.audit.services import record_event
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


def patient_search(*, actor: Actor, query: str = "", limit: int = 50) -> QuerySet[Patient]:
    """Find patients from one search box: name fragments in any order (accents, case and
    one typo ignored), a birth date (JJ/MM/AAAA) or a NIR (or its beginning). Ranked by
    how well the names match. Audited."""
    # Searching reads identities in the actor's practice: the policy must allow it there.
    if actor.practice_id is None:
        return Patient.objects.none()
    authorize_search(actor)
    # A patient who excluded the searcher from their whole record is refused everything,
    # their identity included: they are not listed to that person.
    patients = Patient.objects.filter(merged_into__isnull=True).exclude(
        pk__in=_excluding(actor.person_id)
    )
    name_terms: list[str] = []
    for term in query.split()[:8]:
        born = _birth_date(term)
        if born is not None:
            patients = patients.filter(birth_date=born)
        elif DATE_TERM.match(term):
            return Patient.objects.none()  # a date that does not exist: nobody
        elif term.replace(" ", "").isdigit() and len(term) >= 5:
            patients = patients.filter(nir__startswith=term)
        else:
            name_terms.append(term[:60])
    record_event(
        "patient.search",
        actor=actor,
        practice_id=actor.practice_id,
        category=Category.IDENTITY.value,
        details={"query": query[:100]},
    )
    if not name_terms:
        return patients.order_by("birth_name", "given_names", "birth_date")[:limit]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [WORD_SIMILARITY_THRESHOLD],
        )
    score_sql = []
    score_params: list[str] = []
    for term in name_terms:
        # Each term must match a word of the names; short terms by prefix.
        if len(term) < 3:
            prefix = re.sub(r"[%_\\]", "", term)  # LIKE wildcards are not wanted here
            patients = patients.extra(
                where=["(' ' || search_name) LIKE ('%% ' || lower(carnet_unaccent(%s)) || '%%')"],
                params=[prefix],
            )
        else:
            patients = patients.extra(
                where=["lower(carnet_unaccent(%s)) <%% search_name"], params=[term]
            )
        score_sql.append("word_similarity(lower(carnet_unaccent(%s)), search_name)")
        score_params.append(term)
    score = RawSQL(" + ".join(score_sql), score_params)  # noqa: S611 - parameters are bound  # nosec B611
    return patients.annotate(score=score).order_by("-score", "birth_name", "given_names")[:limit]


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
    patient = Patient.objects.filter(pk=patient_id).select_related("gp").first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    access.require(actor, Action.READ, category, patient)
    return patient


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
