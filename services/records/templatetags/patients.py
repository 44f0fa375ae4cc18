"""Template filters about the patient: ``{{ patient|age }}`` writes "54 ans", "8 mois";
``{% patient_links patient as links %}`` gives the other apps' links on the record;
``{% identity_banner %}`` draws the patient's identity at the top of each page about
them, ``{% identity_section %}`` the chart's identity card with its history,
``{% identity_history history %}`` that history alone, and ``{% care_team %}`` the
patient's care team: in Jinja2 (records/jinja2/records/; core/jinja.py says why), the
same HTML as Django's templates drew (tests/records/test_chart_render.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.template import engines
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_noop, ngettext

from core import navigation
from core.jinja import csrf_field
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
    return _jinja("records/_identity_banner.html", values)


def _jinja(name: str, values: dict[str, Any]) -> SafeString:
    html = engines["jinja2"].get_template(name).render(values)
    return SafeString(html)  # nosec B703 - Jinja2 escaped each value (core/jinja.py)


@register.simple_tag(takes_context=True)
def identity_section(context: template.Context) -> SafeString:
    """The chart's card of the patient's identity and contact, its actions when
    ``may_edit_identity``, and the identity's history (``chart.identity_history``)."""
    patient, slug = context["patient"], context["current_practice"].slug
    return _jinja(
        "records/_identity_section.html",
        {
            "patient": patient,
            "history": context["chart"].identity_history,
            "may_edit_identity": context.get("may_edit_identity"),
            "may": context.get("may"),
            "url": lambda name: by_id(name, slug)(patient.pk),
        },
    )


@register.simple_tag
def identity_history(history: list[Any]) -> SafeString:
    return _jinja("records/_identity_history.html", {"history": history})


# Said in records/jinja2/records/_care_team.html with a named value, a call that
# `makemessages` cannot read in a template: declared here, so the catalogue keeps it.
gettext_noop("Remove %(name)s from the care team")


@register.simple_tag(takes_context=True)
def care_team(context: template.Context, **given: Any) -> SafeString:
    """The patient's care team (``team``), its errors (``errors``) and, when the reader
    may change it, its forms, which come back to ``back`` ("chart" or "team")."""
    patient, slug = context["patient"], context["current_practice"].slug
    return _jinja(
        "records/_care_team.html",
        {
            "team": given.get("team", context.get("team")),
            "back": given.get("back", context.get("back")),
            "errors": context.get("errors"),
            "csrf": csrf_field(context),
            "remove_url": by_id("records:care-team-remove", slug)(patient.pk),
            "add_url": by_id("records:care-team-add", slug)(patient.pk),
        },
    )
