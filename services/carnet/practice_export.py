"""A practice's whole export, assembled from each service's part (core, records, billing,
sharing): what `carnet export_practice` writes to a directory and what the leaving page
hands the practice's administrator as one archive encrypted to their key. Runs inside
the practice's context: row-level security guarantees nothing of another practice is
read."""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from billing import export as billing_export
from core import export as core_export
from core import tenancy
from core.audit.services import record_event
from core.practices.models import Practice
from records import export as records_export
from sharing import export as sharing_export

PARTS = {
    "core": core_export,
    "records": records_export,
    "billing": billing_export,
    "sharing": sharing_export,
}


def export_to(practice: Practice, out: Path) -> dict[str, int]:
    """Write the practice's parts, its documents' files and a manifest into ``out`` (an
    empty directory); the rows per part."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with tenancy.practice_context(practice.pk):
        record_event("practice.export", practice_id=practice.pk, target=f"practice:{practice.slug}")
        for name, module in PARTS.items():
            rows = module.export_part(practice)
            (out / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=0))
            counts[name] = len(rows)
        for relative in records_export.document_files(practice):
            source = Path(settings.MEDIA_ROOT) / relative
            target = out / "media" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    manifest = {
        "practice": practice.slug,
        "exported_at": timezone.now().isoformat(),
        "node": settings.CARNET_NODE_NAME,
        "rows": counts,
        "format": 1,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return counts


@contextmanager
def export_archive(practice: Practice) -> Iterator[tuple[Path, dict[str, int]]]:
    """The export as one ``.tar.gz`` (a folder named after the practice), in a temporary
    directory removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="carnet-export-") as work:
        folder = Path(work) / f"carnet-{practice.slug}"
        counts = export_to(practice, folder)
        archive = Path(work) / f"carnet-{practice.slug}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname=folder.name)
        yield archive, counts
