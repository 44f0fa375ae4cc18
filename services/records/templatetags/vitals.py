"""Template filters for measures: ``{{ observation|measure }}`` writes "38,2 °C"; and
``{% plot p %}``, a small line plot (records.vitals.Plot), and ``{% vital_signs vitals %}``,
the chart's card of vital signs with its plots. Those two are drawn by their one template
each, in Jinja2 (records/jinja2/records/: the chart, the most opened page, draws several
plots; core/jinja.py says why)."""

from __future__ import annotations

from django import template
from django.template import engines
from django.utils import translation
from django.utils.safestring import SafeString

from records import vitals
from records.models import Observation
from records.vitals import Plot

register = template.Library()


@register.filter
def measure(observation: Observation) -> str:
    return vitals.measure(observation)


@register.filter
def measure_fr(observation: Observation) -> str:
    """For the printed documents, which are written in French whatever the screen's
    language: the French notation always."""
    with translation.override("fr"):
        return vitals.measure(observation)


def _jinja(name: str, context: dict[str, object]) -> SafeString:
    # Jinja2 escapes each value as Django's templates do (core/jinja.py).
    return SafeString(engines["jinja2"].get_template(name).render(context))  # nosec B703


@register.simple_tag
def plot(p: Plot) -> SafeString:
    return _jinja("records/_plot.html", {"p": p})


@register.simple_tag
def vital_signs(found: vitals.Vitals) -> SafeString:
    return _jinja("records/_vitals.html", {"vitals": found})
