"""Reading the audit trail (row-level security limits it to the current practice)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.audit.models import AuditEvent


def events_for_patient(*, patient_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(patient_id=patient_id).order_by("occurred_at", "seq")


def recent_events(*, limit: int = 50) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.order_by("-occurred_at", "-seq")[:limit]
