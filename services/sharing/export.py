"""The sharing service's part of a practice export (see core.export)."""

from __future__ import annotations

from typing import Any

from core.export import dump, load
from core.practices.models import Practice
from sharing.models import ImportedResource, InboxMessage, OutboxMessage


def export_part(practice: Practice) -> list[dict[str, Any]]:
    rows = [
        *ImportedResource.objects.filter(practice=practice),
        *OutboxMessage.objects.filter(practice=practice),
        *InboxMessage.objects.filter(practice=practice),
    ]
    return dump(rows)


def import_part(data: list[dict[str, Any]]) -> int:
    return load(data)
