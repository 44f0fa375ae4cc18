"""``{% chart_clinical %}``: the chart's clinical part (its actions, sections and last
consultations), drawn by Jinja2 (records/jinja2/records/_chart_clinical.html).

The chart is the page a practitioner opens all day; these sections are its loops, and
Django's template engine spent most of the page's time on them (docs/performance.md,
"The chart page"). The HTML is the same (tests/records/test_chart_render.py)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import template
from django.template import engines
from django.utils.safestring import SafeString

from core.jinja import csrf_field
from core.links import ID, by_ids
from records.vitals import measure

register = template.Library()


@register.simple_tag(takes_context=True)
def chart_clinical(context: template.Context) -> SafeString:
    patient, slug = context["patient"], context["current_practice"].slug

    def url(name: str, *more: Any) -> str:  # more: an entry's kind
        return by_ids(name, slug, ID, *more)(patient.pk)

    found = {
        "patient": patient,
        "chart": context["chart"],
        "csrf": csrf_field(context),
        "url": url,
        "problem_url": partial(
            by_ids("records:entry-correct", slug, ID, "problem", ID), patient.pk
        ),
        "encounter_url": partial(
            by_ids("records:entry-correct", slug, ID, "encounter", ID), patient.pk
        ),
        "document_url": partial(by_ids("records:document", slug, ID, ID), patient.pk),
        "measure": measure,
    }
    html = engines["jinja2"].get_template("records/_chart_clinical.html").render(found)
    return SafeString(html)  # nosec B703 - Jinja2 escaped each value (core/jinja.py)
