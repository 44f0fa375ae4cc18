"""When a practice that left the cooperative is deleted
(``core.practices.services.leaving``): its documents' files go from the disk once the
deletion is committed (their rows go with the practice's tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from records.models import Document


def forget_document_files(*, practice_id: int, **_kwargs: Any) -> dict[str, int]:
    names = [
        name
        for name in Document.objects.filter(practice_id=practice_id).values_list("file", flat=True)
        if name
    ]
    root = Path(settings.MEDIA_ROOT)

    def unlink() -> None:
        for name in names:
            (root / name).unlink(missing_ok=True)

    transaction.on_commit(unlink)
    return {"document files": len(names)}
