"""The versions of a clinical entry: the current row, and the content it had before each
correction (``EntryRevision``), rebuilt as unsaved copies of the entry.

A revision keeps what the entry held before an edit or its removal (version ``n``); the
edit made version ``n + 1``. So version ``n`` was written when revision ``n - 1`` was
kept (or when the entry was recorded, for the first), and replaced at the revision's
``changed_at``. The caller decides who may see them (``records.access``): an old version
is checked as an entry of its own, since its sensitivity may have been another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models

from records.models.clinical import ClinicalEntry, EntryRevision


@dataclass(frozen=True)
class EntryVersion:
    """One version of an entry: its content then, and when it was written."""

    version: int
    entry: Any  # the entry's model, as it was at that version
    written_at: datetime
    current: bool


def _restored(entry: ClinicalEntry, content: dict[str, Any], authors: dict[int, Any]) -> Any:
    """An unsaved copy of ``entry`` holding ``content`` (values as ``_snapshot`` stored
    them: text, or None). Fields the snapshot does not hold keep the current value."""
    model = type(entry)
    copy = model()
    for field in model._meta.concrete_fields:
        setattr(copy, field.attname, getattr(entry, field.attname))
        if field.name not in content:
            continue
        raw = content[field.name]
        if raw is None:
            value = None
        elif isinstance(field, models.ForeignKey):
            value = field.target_field.to_python(raw)
        elif isinstance(field, models.DateTimeField):
            value = datetime.fromisoformat(raw)
        elif isinstance(field, models.BooleanField):
            value = raw in (True, "True", "true", "1")
        else:
            value = field.to_python(raw)
        setattr(copy, field.attname, value)
    copy.author = authors.get(copy.author_id, entry.author)
    copy._state.adding = False  # a copy of a stored row, never to be saved
    return copy


def entry_versions(entry: ClinicalEntry) -> list[EntryVersion]:
    """Every version of the entry, newest first (the current row first)."""
    revisions = list(
        EntryRevision.objects.filter(entry_type=entry.ENTRY_TYPE, entry_id=entry.pk).order_by(
            "version"
        )
    )
    author_ids = set()
    for revision in revisions:
        author = revision.content.get("author")
        if author and str(author).isdigit():
            author_ids.add(int(author))
    person_model = apps.get_model(settings.AUTH_USER_MODEL)
    authors = person_model._default_manager.in_bulk(author_ids) if author_ids else {}
    versions = [EntryVersion(entry.version, entry, entry.updated_at, True)]
    for index, revision in enumerate(revisions):
        if revision.version >= entry.version:  # not an older version: ignore
            continue
        written = revisions[index - 1].changed_at if index else entry.recorded_at
        old = _restored(entry, revision.content, authors)
        old.version = revision.version
        old.updated_at = written
        versions.append(EntryVersion(revision.version, old, written, False))
    versions.sort(key=lambda version: version.version, reverse=True)
    return versions


def entry_version(entry: ClinicalEntry, version: int) -> EntryVersion | None:
    """One version of the entry, or None if it never had it."""
    return next((found for found in entry_versions(entry) if found.version == version), None)
