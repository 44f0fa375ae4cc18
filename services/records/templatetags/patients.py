"""Template filters about the patient: ``{{ patient|age }}`` writes "54 ans", "8 mois";
``{% patient_links patient as links %}`` gives the other apps' links on the record;
``{% identity_banner %}`` draws the patient's identity at the top of each page about
them, in Jinja2 (records/jinja2/records/_identity_banner.html; core/jinja.py says why),
the same HTML as Django's template drew (tests/records/test_chart_render.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.template import engines
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from core import navigation
from core.links import by_id

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


@register.simple_tag(takes_context=True)
def identity_banner(context: template.Context, **given: Any) -> SafeString:
    """The banner of ``patient``, with ``allergies`` when ``allergies_known`` (the reader
    may read them), given here or found in the page's context."""
    patient, slug = context["patient"], context["current_practice"].slug
    values = {
        "patient": patient,
        "age": age(patient),
        "allergies": given.get("allergies", context.get("allergies")),
        "allergies_known": given.get("allergies_known", context.get("allergies_known")),
        "chart_url": by_id("records:chart", slug),
        "record_pdf_url": by_id("records:record-pdf", slug),
        "access_report_url": by_id("records:access-report-pdf", slug),
        "care_team_url": by_id("records:care-team", slug),
        "choices_url": by_id("records:patient-choices", slug),
        "more_links": patient_links(context, patient),
    }
    html = engines["jinja2"].get_template("records/_identity_banner.html").render(values)
    return SafeString(html)  # nosec B703 - Jinja2 escaped each value (core/jinja.py)
