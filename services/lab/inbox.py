"""The drop folder of a practice: where Apicrypt, an MSSanté mail client or a lab's own
software writes the result files (``CARNET_LAB_INBOX/<practice slug>/``). At each round
of the worker, every file there is received as if uploaded, then moved — to ``done/``
once received (filed, waiting in the queue, or already received), to ``refused/`` when
it is no result message — so a person can look at it and nothing is read twice.

A file younger than a few seconds is left for the next round: its writer may not have
finished it.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings

from core.practices.models import Practice
from lab.models import FileStatus, Source
from lab.services import receive_file

SETTLE_SECONDS = 5


def folder_of(practice: Practice) -> Path:
    return Path(settings.CARNET_LAB_INBOX) / practice.slug


def _move(path: Path, into: Path) -> None:
    into.mkdir(exist_ok=True)
    target = into / path.name
    if target.exists():  # the same name received before: keep both
        target = into / f"{path.stem}-{time.strftime('%Y%m%d%H%M%S')}{path.suffix}"
    path.rename(target)


def scan(practice: Practice, *, settle_seconds: float = SETTLE_SECONDS) -> str:
    """Receive every settled file of the practice's drop folder; what was done."""
    folder = folder_of(practice)
    if not folder.is_dir():
        return ""
    now = time.time()
    counts = {"filed": 0, "to_match": 0, "refused": 0, "already": 0}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if now - path.stat().st_mtime < settle_seconds:
            continue
        refused = False
        for received in receive_file(
            actor=None,
            practice_id=practice.pk,
            raw=path.read_bytes(),
            filename=path.name,
            source=Source.FOLDER,
        ):
            status = "already" if received.already else received.file.status
            counts[status] = counts.get(status, 0) + 1
            refused = refused or status == FileStatus.REFUSED
        # A file with a message refused goes to refused/, for a person to look at.
        _move(path, folder / ("refused" if refused else "done"))
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n)
