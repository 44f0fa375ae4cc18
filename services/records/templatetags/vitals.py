"""Template filters for measures: ``{{ observation|measure }}`` writes "38,2 °C"."""

from __future__ import annotations

from django import template
from django.utils import translation

from records import vitals
from records.models import Observation

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
