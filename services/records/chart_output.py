"""The chart as JSON, without a serializer per entry.

The chart is the most frequent read of the API. DRF's ``ChartOutput`` (kept in
``records.api`` for the OpenAPI description) builds a serializer and its fields for every
entry, which cost a large share of the request; this module writes the same JSON from a
fixed list of fields per section. ``tests/perf/test_chart_output.py`` checks that both
give the same document, field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from records.selectors.chart import Chart

ENTRY_COMMON = ("id", "author_id", "recorded_at", "version", "status", "sensitivity")
SECTIONS: dict[str, tuple[str, ...]] = {
    "allergies": ("substance", "substance_code", "atc_class", "kind", "reaction", "severity"),
    "problems": (
        "code",
        "label",
        "clinical_status",
        "is_history",
        "long_term_condition",
        "onset",
        "resolved_on",
    ),
    "encounters": (
        "occurred_at",
        "kind",
        "reason",
        "subjective",
        "objective",
        "assessment",
        "plan",
        "documentation_seconds",
    ),
    "immunizations": ("vaccinated_on", "vaccine", "drug_id", "lot_number", "dose"),
}
PATIENT_FIELDS = (
    "id",
    "birth_name",
    "used_name",
    "given_names",
    "sex",
    "birth_date",
    "birth_place",
    "nir",
    "address",
    "postal_code",
    "city",
    "phone",
    "gp_id",
    "deceased_on",
    "version",
)
# Attribute name -> name in the document (foreign keys are given by their id).
RENAMED = {"author_id": "author", "gp_id": "gp", "drug_id": "drug"}


def _moment(value: datetime) -> str:
    """As DRF writes a date and time: in the current time zone, ISO 8601, UTC as Z."""
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _moment(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(objects: Iterable[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    names = [RENAMED.get(name, name) for name in fields]
    value: Callable[[Any], Any] = _value
    return [
        {name: value(getattr(obj, attr)) for name, attr in zip(names, fields, strict=True)}
        for obj in objects
    ]


def chart_document(chart: Chart) -> dict[str, Any]:
    document: dict[str, Any] = {
        "patient": _rows([chart.patient], PATIENT_FIELDS)[0],
        "clinical_allowed": chart.clinical_allowed,
        "clinical_refusal": str(chart.clinical_refusal),
    }
    for section, fields in SECTIONS.items():
        document[section] = _rows(getattr(chart, section), ENTRY_COMMON + fields)
    document["hidden"] = chart.hidden
    return document
