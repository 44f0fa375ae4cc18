"""Which act each entry list of the API closes, and closing it (in the save's
transaction): the draft token the client sends back, and what it declares apart."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from records.models import DocumentationAct
from records.services import care_time
from records.services.care_time import ActKind

# The entry lists of the API and the act each one's POST closes.
API_ACTS = {
    "encounters": ActKind.CONSULTATION,
    "problems": ActKind.PROBLEM,
    "allergies": ActKind.ALLERGY,
    "immunizations": ActKind.VACCINATION,
    "observations": ActKind.OBSERVATION,
    "prescriptions": ActKind.PRESCRIPTION,
    "letters": ActKind.LETTER,
    "documents": ActKind.DOCUMENT,
    # Not entry lists of the records API: a lab file signed off
    # (POST /api/v1/lab/files/{id}/sign-off/) and an invoice made by the practitioner
    # (POST /api/v1/patients/{id}/invoices/) send the draft back the same way.
    "lab-results": ActKind.LAB_RESULT,
    "invoices": ActKind.INVOICE,
}


def record_api_act(
    request: Request,
    actor: Any,
    api_kind: str,
    patient_id: int,
    entry: Any,
    declared_seconds: float | None = None,
) -> DocumentationAct | None:
    """Close the act of an entry saved through the API (in the save's transaction)."""
    token = request.data.get("draft", "") if hasattr(request.data, "get") else ""
    return care_time.act_record(
        actor=actor,
        kind=API_ACTS[api_kind],
        token=str(token or "")[:64],
        patient_id=patient_id,
        entry_id=entry.pk,
        encounter=entry if api_kind == "encounters" else None,
        declared_seconds=declared_seconds,
        source=DocumentationAct.Source.API,
    )
