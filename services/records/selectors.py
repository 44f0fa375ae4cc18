"""Reading patients. Row-level security already limits rows to the current practice;
the policy decides what the actor may see of each patient."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category
from core.audit.services import record_event
from records import access
from records.models import Patient


def patient_search(*, actor: Actor, query: str = "", limit: int = 50) -> QuerySet[Patient]:
    """Find patients by name fragments, birth date (JJ/MM/AAAA) or NIR. Audited."""
    patients = Patient.objects.all()
    for term in query.split():
        if term.count("/") == 2:
            day, month, year = term.split("/")
            if day.isdigit() and month.isdigit() and year.isdigit():
                patients = patients.filter(
                    birth_date__day=int(day),
                    birth_date__month=int(month),
                    birth_date__year=int(year),
                )
                continue
        if term.isdigit() and len(term) >= 5:
            patients = patients.filter(nir__startswith=term)
            continue
        patients = patients.filter(
            Q(birth_name__unaccent__icontains=term)
            | Q(used_name__unaccent__icontains=term)
            | Q(given_names__unaccent__icontains=term)
        )
    record_event(
        "patient.search",
        actor=actor,
        practice_id=actor.practice_id,
        category=Category.IDENTITY.value,
        details={"query": query[:100]},
    )
    return patients.order_by("birth_name", "given_names", "birth_date")[:limit]


def patient_get(
    *, actor: Actor, patient_id: int, category: Category = Category.IDENTITY
) -> Patient:
    """One patient, if the actor may read this category of their data (audited)."""
    patient = Patient.objects.filter(pk=patient_id).select_related("gp").first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    access.require(actor, Action.READ, category, patient)
    return patient
