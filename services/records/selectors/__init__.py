"""Reads of the records service."""

from records.selectors.chart import Chart, chart_for
from records.selectors.patients import (
    patient_get,
    patient_search,
    patient_with_access,
    possible_duplicates,
)

__all__ = [
    "Chart",
    "chart_for",
    "patient_get",
    "patient_search",
    "patient_with_access",
    "possible_duplicates",
]
