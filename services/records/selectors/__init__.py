"""Reads of the records service."""

from records.selectors.chart import Chart, chart_for
from records.selectors.coding import cim10_code
from records.selectors.entries import (
    EntryStatus,
    Patient,
    active_entries,
    encounter_of_practice,
    entry_rows,
    entry_type,
    patient_of_practice,
)
from records.selectors.identity import (
    MergePreview,
    gp_candidates,
    identity_for_change,
    identity_history,
    merge_candidates,
    merge_preview,
    merge_start,
)
from records.selectors.patients import (
    patient_get,
    patient_reads_ahead,
    patient_search,
    patient_with_access,
    possible_duplicates,
)
from records.selectors.prescribing import prescribing_context

__all__ = [
    "Chart",
    "EntryStatus",
    "MergePreview",
    "Patient",
    "active_entries",
    "chart_for",
    "cim10_code",
    "encounter_of_practice",
    "entry_rows",
    "entry_type",
    "gp_candidates",
    "identity_for_change",
    "identity_history",
    "merge_candidates",
    "merge_preview",
    "merge_start",
    "patient_get",
    "patient_of_practice",
    "patient_reads_ahead",
    "patient_search",
    "patient_with_access",
    "possible_duplicates",
    "prescribing_context",
]
