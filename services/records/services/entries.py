"""Writing clinical entries: create, correct (with history), mark as entered in error.

No lost update: an edit names the version it was based on; the row is locked, and if
someone else saved in between, the edit is refused with who and when, never applied
over their work. No silent overwrite: the content before the edit is kept in
``EntryRevision`` with who, when and why.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category
from core.audit.services import record_event
from records import access as records_access
from records.access import PatientAccess
from records.models.clinical import ClinicalEntry, EntryRevision, EntryStatus

Entry = TypeVar("Entry", bound=ClinicalEntry)

# Fields a person may set; everything else (author, version, status...) is Carnet's.
BOOKKEEPING = {
    "id",
    "practice",
    "patient",
    "author",
    "recorded_at",
    "updated_at",
    "version",
    "status",
    "error_reason",
}


class EditConflict(Exception):
    """Someone saved this entry after the version the edit was based on."""

    def __init__(self, entry: ClinicalEntry) -> None:
        when = timezone.localtime(entry.updated_at).strftime("%d/%m/%Y %H:%M")
        super().__init__(
            _("This entry was changed by someone else (%(when)s). Reload it and redo your change.")
            % {"when": when}
        )
        self.entry = entry


def _snapshot(entry: ClinicalEntry) -> dict[str, Any]:
    data = model_to_dict(entry)
    data.pop("file", None)
    return {key: (str(value) if value is not None else None) for key, value in data.items()}


@transaction.atomic
def entry_create(
    *, actor: Actor, access: PatientAccess, model: type[Entry], **fields: Any
) -> Entry:
    """Add an entry to the patient's record, written by the actor (one event: what was
    added; the policy's success is not recorded on its own, a refusal is)."""
    records_access.require(
        actor, Action.WRITE, Category.CLINICAL, access.patient, access=access, audit_success=False
    )
    entry = _checked_entry(actor, access, model, fields)
    entry.save()
    record_event(
        f"{model.ENTRY_TYPE}.create",
        actor=actor,
        patient_id=access.patient.pk,
        category=Category.CLINICAL.value,
        target=f"{model.ENTRY_TYPE}:{entry.pk}",
        details={"sensitivity": entry.sensitivity} if entry.sensitivity else None,
    )
    return entry


def entry_build(*, actor: Actor, access: PatientAccess, model: type[Entry], **fields: Any) -> Entry:
    """An entry as ``entry_create`` would save it, checked the same way, but not saved
    nor audited: for a bulk import, which decides the policy once per patient
    (``records_access.require``), writes the rows together and records one event per
    patient. References to other rows (a consultation) must come from rows the caller
    has read or written under row-level security; the database still checks them."""
    return _checked_entry(actor, access, model, fields, trusted=("encounter",))


def _checked_entry(
    actor: Actor,
    access: PatientAccess,
    model: type[Entry],
    fields: dict[str, Any],
    trusted: tuple[str, ...] = (),
) -> Entry:
    unknown = set(fields) & BOOKKEEPING
    if unknown:
        raise ValueError(f"not settable: {sorted(unknown)}")
    entry = model(
        practice_id=access.patient.practice_id,
        patient=access.patient,
        author_id=actor.person_id,
        **fields,
    )
    # The practice, the patient and the author come from rows this request has just
    # read (the patient under row-level security): no query to check that they exist.
    entry.full_clean(exclude=["practice", "patient", "author", *trusted])
    return entry


def _lock_for_change(
    actor: Actor, access: PatientAccess, entry: Entry, expected_version: int
) -> Entry:
    locked = type(entry)._default_manager.select_for_update().get(pk=entry.pk)
    # A correction needs write on the record and on that entry: the author of an entry
    # who has left the care team no longer changes it, whatever the way in.
    # The change is recorded once by the caller, with what changed.
    records_access.require(
        actor, Action.WRITE, Category.CLINICAL, access.patient, access=access, audit_success=False
    )
    records_access.require_entry(actor, Action.WRITE, access, locked, audit_success=False)
    if locked.version != expected_version:
        raise EditConflict(locked)
    if locked.status == EntryStatus.ENTERED_IN_ERROR:
        raise ValidationError(_("This entry was removed as entered in error."))
    return locked


def _keep_revision(actor: Actor, entry: ClinicalEntry, reason: str) -> None:
    EntryRevision.objects.create(
        practice_id=entry.practice_id,
        patient_id=entry.patient_id,
        entry_type=entry.ENTRY_TYPE,
        entry_id=entry.pk,
        version=entry.version,
        content=_snapshot(entry),
        changed_by_id=actor.person_id,
        reason=reason,
    )


@transaction.atomic
def entry_update(
    *,
    actor: Actor,
    access: PatientAccess,
    entry: Entry,
    expected_version: int,
    reason: str,
    **changes: Any,
) -> Entry:
    """Correct an entry. The reason is required: it is kept with the previous content."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the entry is corrected.")})
    if set(changes) & BOOKKEEPING:
        raise ValueError(f"not settable: {sorted(set(changes) & BOOKKEEPING)}")
    locked = _lock_for_change(actor, access, entry, expected_version)
    _keep_revision(actor, locked, reason)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.version += 1
    locked.full_clean()
    locked.save()
    record_event(
        f"{locked.ENTRY_TYPE}.update",
        actor=actor,
        patient_id=locked.patient_id,
        category=Category.CLINICAL.value,
        target=f"{locked.ENTRY_TYPE}:{locked.pk}",
        reason=reason,
        details={"version": locked.version, "fields": sorted(changes)},
    )
    return locked


@transaction.atomic
def entry_mark_in_error(
    *, actor: Actor, access: PatientAccess, entry: Entry, expected_version: int, reason: str
) -> Entry:
    """Remove an entry from the record's views; the row and its history stay."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the entry is removed.")})
    locked = _lock_for_change(actor, access, entry, expected_version)
    _keep_revision(actor, locked, reason)
    locked.status = EntryStatus.ENTERED_IN_ERROR
    locked.error_reason = reason
    locked.version += 1
    locked.save(update_fields=["status", "error_reason", "version", "updated_at"])
    record_event(
        f"{locked.ENTRY_TYPE}.entered_in_error",
        actor=actor,
        patient_id=locked.patient_id,
        category=Category.CLINICAL.value,
        target=f"{locked.ENTRY_TYPE}:{locked.pk}",
        reason=reason,
    )
    return locked
