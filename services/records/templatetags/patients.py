"""Template filters about the patient: ``{{ patient|age }}`` writes "54 ans", "8 mois";
``{% patient_links patient as links %}`` gives the other apps' links on the record."""

from __future__ import annotations

from datetime import date

from django import template
from django.utils import timezone
from django.utils.translation import ngettext

from core import navigation

register = template.Library()


def age_text(born: date, on: date | None = None) -> str:
    """The age as a GP says it: in years from 2, in months before, in days the first
    month."""
    on = on or timezone.localdate()
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years >= 2:
        return ngettext("%(n)d year", "%(n)d years", years) % {"n": years}
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    if months >= 1:
        return ngettext("%(n)d month", "%(n)d months", months) % {"n": months}
    days = (on - born).days
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@register.filter
def age(patient: object) -> str:
    born = getattr(patient, "birth_date", None)
    if born is None:
        return ""
    deceased = getattr(patient, "deceased_on", None)
    return age_text(born, deceased)


@register.simple_tag(takes_context=True)
def patient_links(context: template.Context, patient: object) -> list[navigation.Shown]:
    """The pages of the apps above the record about this patient (sharing, billing), as
    they registered them (core.navigation): the record names none of them."""
    request = context.get("request")
    return navigation.links(
        navigation.PATIENT,
        context.get("current_practice"),
        getattr(request, "actor", None),
        args=(getattr(patient, "pk", None),),
    )
