"""The versions of a clinical entry: the current row, and the content it had before each
correction (``EntryRevision``), rebuilt as unsaved copies of the entry.

A revision keeps what the entry held before an edit or its removal (version ``n``); the
edit made version ``n + 1``. So version ``n`` was written when revision ``n - 1`` was
kept (or when the entry was recorded, for the first), and replaced at the revision's
``changed_at``. The caller decides who may see them (``records.access``): an old version
is checked as an entry of its own, since its sensitivity may have been another.

A prescription's line has the versions of its prescription (the line itself is never
changed); a patient's identity has a version per ``IdentityChange``, rebuilt backwards
from the current row with the values each change kept as "before".

``writes`` lists, newest first, when each version of a kind of entry (or of patients)
was written, across the practice (row-level security): what a history of a whole type
pages through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, IntegerField, QuerySet, Value

from records.models.clinical import ClinicalEntry, EntryRevision, PrescriptionItem
from records.models.patients import IdentityChange, Patient
from records.selectors.entries import ENTRY_MODELS


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
    return versions_of_entries([entry])[entry.pk]


def versions_of_entries(entries: list[Any]) -> dict[int, list[EntryVersion]]:
    """``entry_versions`` of several entries of one kind, in two queries at most."""
    if not entries:
        return {}
    by_entry: dict[int, list[EntryRevision]] = {entry.pk: [] for entry in entries}
    revisions = EntryRevision.objects.filter(
        entry_type=entries[0].ENTRY_TYPE, entry_id__in=list(by_entry)
    ).order_by("entry_id", "version")
    author_ids = set()
    for revision in revisions:
        by_entry[revision.entry_id].append(revision)
        author = revision.content.get("author")
        if author and str(author).isdigit():
            author_ids.add(int(author))
    person_model = apps.get_model(settings.AUTH_USER_MODEL)
    authors = person_model._default_manager.in_bulk(author_ids) if author_ids else {}
    return {entry.pk: _versions(entry, by_entry[entry.pk], authors) for entry in entries}


def _versions(
    entry: ClinicalEntry, revisions: list[EntryRevision], authors: dict[Any, Any]
) -> list[EntryVersion]:
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


def line_versions(line: PrescriptionItem) -> list[EntryVersion]:
    """Every version of a prescription's line, newest first: its prescription's versions,
    each with the same line (a line is never changed, its prescription may be)."""
    return [
        EntryVersion(
            version.version, line_at(line, version.entry), version.written_at, version.current
        )
        for version in entry_versions(line.prescription)
    ]


def line_at(line: PrescriptionItem, prescription: Any) -> PrescriptionItem:
    """The line as it was in this version of its prescription (an unsaved copy)."""
    copy = PrescriptionItem()
    for field in PrescriptionItem._meta.concrete_fields:
        setattr(copy, field.attname, getattr(line, field.attname))
    copy.prescription = prescription
    copy._state.adding = False  # never to be saved
    return copy


def _patient_value(field: models.Field[Any, Any], raw: str | None) -> Any:
    if raw is None:
        return None if field.null else ""
    return field.to_python(raw)


def patient_versions(patient: Patient) -> list[EntryVersion]:
    """Every version of the patient that can be rebuilt, newest first (the current row
    first). Version ``n`` is the row before the change that made ``n + 1``: each field
    that change names takes its "before" value; a merged duplicate was not merged yet;
    the GP of record is kept by name. A version whose change is missing (none is
    expected) ends the history there."""
    changes = {
        change.version: change
        for change in IdentityChange.objects.filter(patient=patient).order_by("version")
    }
    versions = [EntryVersion(patient.version, patient, patient.updated_at, True)]
    state = patient
    for number in range(patient.version - 1, 0, -1):
        change = changes.get(number + 1)
        if change is None:
            break
        older = Patient()
        for field in Patient._meta.concrete_fields:
            setattr(older, field.attname, getattr(state, field.attname))
        older._state.fields_cache = dict(state._state.fields_cache)
        for name, (before, _after) in change.changes.items():
            if name == "gp":
                # Kept by name only: the version says who, it links to no one.
                older.gp_id = -1 if before else None
                older._state.fields_cache["gp"] = SimpleNamespace(full_name=before)
                continue
            try:
                found = Patient._meta.get_field(name)
            except FieldDoesNotExist:  # a field that no longer exists
                continue
            if isinstance(found, models.Field) and found.concrete:
                setattr(older, found.attname, _patient_value(found, before))
        if change.kind == IdentityChange.Kind.MERGE and older.merged_into_id:
            # The merge that made this record a pointer (a record is merged once, and
            # a merged record is not changed afterwards).
            older.merged_into_id = None
        previous = changes.get(number)
        written = previous.changed_at if previous is not None else patient.created_at
        older.version = number
        older.updated_at = written
        older._state.adding = False
        versions.append(EntryVersion(number, older, written, False))
        state = older
    return versions


def version_of(versions: list[EntryVersion], number: int) -> EntryVersion | None:
    return next((found for found in versions if found.version == number), None)


@dataclass(frozen=True)
class Write:
    """One version written: which row (an entry, or a patient), which version, when."""

    written_at: datetime
    row_id: int
    version: int
    patient_id: int


def writes(kind: str, since: datetime | None = None) -> QuerySet[Any]:
    """When each version of every row of a kind (``ENTRY_MODELS``' names, or
    ``"patient"``) was written, newest first, as values ``written_at``, ``row_id``,
    ``version``, ``patient_id``: the first version when the row was recorded, each later
    one when the change that made it was kept. The practice's rows only (row-level
    security); from ``since`` on when given."""
    if kind == "patient":
        first: QuerySet[Any] = Patient.objects.values(
            written_at=F("created_at"),
            row_id=F("pk"),
            number=Value(1, IntegerField()),
            owner=F("pk"),
        )
        later: QuerySet[Any] = IdentityChange.objects.values(
            written_at=F("changed_at"),
            row_id=F("patient_id"),
            number=F("version"),
            owner=F("patient_id"),
        )
    else:
        model = ENTRY_MODELS[kind]
        first = model._default_manager.values(
            written_at=F("recorded_at"),
            row_id=F("pk"),
            number=Value(1, IntegerField()),
            owner=F("patient_id"),
        )
        later = EntryRevision.objects.filter(entry_type=getattr(model, "ENTRY_TYPE", "")).values(
            written_at=F("changed_at"),
            row_id=F("entry_id"),
            number=F("version") + 1,
            owner=F("patient_id"),
        )
    if since is not None:
        created = "created_at" if kind == "patient" else "recorded_at"
        first = first.filter(**{f"{created}__gte": since})
        later = later.filter(changed_at__gte=since)
    return first.union(later, all=True).order_by("-written_at", "-row_id", "-number")


def as_write(row: dict[str, Any]) -> Write:
    return Write(row["written_at"], row["row_id"], row["number"], row["owner"])
