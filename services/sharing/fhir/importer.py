"""Importing FHIR R4 bundles (Synthea and the like) into a practice's records.

``import_bundle`` reads one Bundle, has fhir.resources check the resources Carnet stores
(its R4B models accept the R4 output of Synthea), and writes them in bulk, with the same
checks and the same rows as the records services would, the access policy deciding and
the audit trail recording:

    Patient             -> Patient (``patient_create``; the given practitioner is GP of record)
    Encounter           -> Encounter (a consultation: date, kind, reason)
    Condition           -> Problem
    AllergyIntolerance  -> Allergy
    MedicationRequest   -> Prescription with one free-text line
    Immunization        -> Immunization
    Observation         -> Observation; a value given only in components (blood pressure)
                           becomes one Observation per component, as Carnet records vitals

The rules, and why:

- **Fast, with the same rows.** Only the types Carnet stores are validated, each resource
  on its own (an error still names ``entry.N.resource.field``); the others (Claim,
  ExplanationOfBenefit...) are only checked to be FHIR resource types, and counted. Each
  entry is checked as ``entry_create`` checks it (``records.services.entry_build``);
  prescriptions keep their alerts (``records.services.HistoricalPrescriptions``). The
  entries are written type by type with COPY into a temporary staging table, then moved
  into the real table by one ``INSERT ... SELECT`` as the application role in the
  practice's context, so row-level security checks every row (``core.staging``). The
  rows are those the entry-by-entry import wrote (tests/sharing/test_fhir_import_rows.py).
- **The policy decides once per patient and bundle** (write of the clinical record; a
  refusal is audited and fails the bundle). Registering a patient goes through
  ``patient_create`` (duplicate check, care team, its own events); a document through
  ``document_upload``.
- **One audit event per patient**: ``fhir.import``, chained like every event, naming the
  patient, the file, the number of resources imported for them and the rows they became
  (``created``), with the bundle's counts (already imported, not supported, skipped);
  one without a patient when the bundle created nothing. Not one event per entry.

- **One bundle, one transaction.** Any error and nothing of the bundle is stored: half a
  record is worse than none. A refusal by the policy and the failed attempt itself stay in
  the audit trail.
- **Idempotent.** Every imported resource is remembered in ``ImportedResource``; a second
  import of the same bundle creates nothing and says so.
- **Reported, not fatal:** resources of types Carnet does not hold (Claim, CarePlan...) are
  counted by type; references the bundle cannot resolve (Synthea's conditional
  ``Practitioner?identifier=...``) are listed; resources without what Carnet needs (an
  Observation without a value, an Immunization "not done") are skipped with the reason.
- **Dates.** The clinical dates come from the resource (``occurred_at``, ``onset``,
  ``vaccinated_on``, ``effective_at``, ``prescribed_on``); ``recorded_at`` stays the time
  of the import, which is when Carnet learnt it. A date-time becomes a date in the
  practice's time zone, as Carnet shows every date-time; a partial date ("2011-04") is
  taken as its first day.
- **Authors.** Every entry is written by the importing practitioner: the source's
  clinicians are not people of this practice. Where it came from is kept in
  ``ImportedResource`` (source and FHIR id).
- **Duplicates.** A patient already imported (known by ``ImportedResource``) is reused,
  never registered again. A new patient goes through ``patient_create``'s duplicate check
  (close name, same birth date): a possible duplicate fails the bundle with
  ``code="possible_duplicate"``, unless the caller confirms after checking
  (``confirm_not_duplicate=True``).
- **No NIR.** A foreign patient has no French NIR: it stays empty. Names are kept as the
  source wrote them (Synthea's "Gerardo48" included).
- Free texts longer than Carnet's fields make the bundle fail with the field named, rather
  than being cut silently. Numbers are rounded to the three decimals Carnet keeps.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_start
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from fhir.resources.R4B import fhirtypes, get_fhir_model_class

from core import tenancy
from core.access.policy import Action, Actor, Category
from core.accounts.models import Person
from core.accounts.selectors import holds_practitioner_role
from core.audit.services import Outcome, append, buffered, record_event
from core.practices.models import Practice
from core.staging import insert_through_staging
from records import access as records_access
from records.access import PatientAccess, access_for
from records.selectors import cim10_code, patient_get
from records.services import (
    Allergy,
    ClinicalEntry,
    Document,
    Encounter,
    HistoricalPrescriptions,
    Immunization,
    ItemInput,
    Observation,
    Patient,
    PrescriptionItem,
    Problem,
    document_upload,
    entry_build,
    hold_registrations,
    patient_create,
)
from sharing.models import ImportedResource

# Imported in this order, so that a consultation exists before what refers to it.
SUPPORTED = (
    "Patient",
    "Encounter",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "Immunization",
    "Observation",
    "DocumentReference",
)
# The documents the record keeps (records.services.document_upload checks the content).
DOCUMENT_TYPES = {"application/pdf", "image/png", "image/jpeg"}
DEFAULT_POSOLOGY = "selon prescription"
DEFAULT_DURATION_DAYS = 30
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
ICD10_SYSTEMS = {
    "http://hl7.org/fhir/sid/icd-10",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://hl7.org/fhir/sid/icd-10-fr",
}
ENCOUNTER_KINDS = {
    "AMB": Encounter.Kind.OFFICE,
    "HH": Encounter.Kind.HOME,
    "VR": Encounter.Kind.VIDEO,
}
SEX = {"male": Patient.Sex.MALE, "female": Patient.Sex.FEMALE}
BIRTH_PLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
COMPONENT = "#component-"
# Carnet keeps values with 3 decimals and at most 12 digits.
THREE_PLACES = Decimal("0.001")
LARGEST_VALUE = Decimal("999999999.999")


class FhirImportError(Exception):
    """A bundle that cannot be imported. Nothing of it was stored.

    ``name`` is the file (or bundle) name, ``reason`` says why; ``code`` is stable for
    callers: ``unreadable``, ``not_json``, ``not_a_bundle``, ``invalid`` (refused by the
    FHIR validation), ``not_allowed``, ``possible_duplicate``, ``rejected`` (a resource
    Carnet refused), ``conflict`` (the same bundle imported at the same time elsewhere).
    """

    def __init__(self, name: str, reason: str, *, code: str = "invalid") -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class UnresolvedReference:
    """A reference the bundle does not resolve (reported, not fatal)."""

    resource: str  # "Encounter/<id>"
    reference: str
    display: str = ""

    @property
    def kind(self) -> str:
        """What it points to: "Practitioner?" for a conditional reference, else the type."""
        if "?" in self.reference:
            return self.reference.split("?", 1)[0] + "?"
        if self.reference.startswith("urn:"):
            return "urn"
        return self.reference.split("/", 1)[0]


@dataclass
class ImportReport:
    """What one import did."""

    name: str
    source: str = ""
    resources: int = 0
    created: Counter[str] = field(default_factory=Counter)  # by Carnet type: "patient"...
    already_imported: Counter[str] = field(default_factory=Counter)  # by FHIR type
    unsupported: Counter[str] = field(default_factory=Counter)  # by FHIR type
    skipped: list[str] = field(default_factory=list)  # "Observation/<id>: no value"
    notes: Counter[str] = field(default_factory=Counter)  # mappings worth knowing
    unresolved: list[UnresolvedReference] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    def unresolved_by_kind(self) -> Counter[str]:
        return Counter(reference.kind for reference in self.unresolved)

    def summary(self) -> str:
        parts = [f"created {counts_text(self.created) or 'nothing'}"]
        if self.already_imported:
            parts.append(f"already imported {counts_text(self.already_imported)}")
        if self.unsupported:
            parts.append(f"not imported (type) {counts_text(self.unsupported)}")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)}")
        if self.notes:
            parts.append(f"notes: {counts_text(self.notes)}")
        if self.unresolved:
            parts.append(
                f"unresolved references {len(self.unresolved)}"
                f" ({counts_text(self.unresolved_by_kind())})"
            )
        return "; ".join(parts)


# The order of the summary: the patient first, then the record.
TARGETS = (
    "patient",
    "encounter",
    "problem",
    "allergy",
    "prescription",
    "immunization",
    "observation",
)


def counts_text(counter: Counter[str]) -> str:
    """Counts as text, e.g. "patient 1, encounter 14": Carnet's types in the record's
    order, anything else by count."""

    def rank(item: tuple[str, int]) -> tuple[int, int]:
        name, count = item
        return (TARGETS.index(name) if name in TARGETS else len(TARGETS), -count)

    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items(), key=rank))


def import_bundle(
    *,
    actor: Actor,
    practice: Practice,
    path_or_dict: str | Path | Mapping[str, Any],
    gp: Person,
    confirm_not_duplicate: bool = False,
) -> ImportReport:
    """Import one FHIR bundle into ``practice``, written by ``actor``, with ``gp`` as the
    GP of record of the patients it registers (so they are in their care team).

    The practice context must be active (``tenancy.practice_context``). Raises
    ``FhirImportError`` when the bundle cannot be imported; nothing of it is stored then.
    """
    started = time.monotonic()
    if tenancy.current_practice_id() != practice.pk or not connection.in_atomic_block:
        raise RuntimeError("Activate the practice first (tenancy.practice_context).")
    if actor.practice_id != practice.pk:
        raise ValueError("The actor acts in another practice.")
    name = _name(path_or_dict)
    with buffered() as events:
        try:
            data = _load(name, path_or_dict)
            resources = _validate(name, data)
            if not holds_practitioner_role(gp, practice.pk):
                raise FhirImportError(
                    name,
                    f"{gp.username} is not a practitioner of this practice.",
                    code="not_allowed",
                )
            with transaction.atomic():
                run = _BundleImport(
                    actor=actor,
                    practice=practice,
                    gp=gp,
                    name=name,
                    source=_source(data, name),
                    raw=data,
                    resources=resources,
                    confirm_not_duplicate=confirm_not_duplicate,
                )
                report = run.run()
                report.seconds = time.monotonic() - started
                _record_import(actor, report, run)
                # Appended inside the transaction: they commit with the rows they describe.
                append(events)
                events.clear()
        except FhirImportError as error:
            _record_failure(actor, events, name, error.reason)
            raise
        except Exception as error:
            # A bug, not the bundle's fault: still rolled back, and the attempt audited.
            _record_failure(actor, events, name, f"unexpected error: {error!r}")
            raise
    return report


# --- Reading and checking the bundle ----------------------------------------------------


def _name(path_or_dict: str | Path | Mapping[str, Any]) -> str:
    if isinstance(path_or_dict, Mapping):
        return str(path_or_dict.get("id") or "bundle")
    return Path(path_or_dict).name


def _load(name: str, path_or_dict: str | Path | Mapping[str, Any]) -> Any:
    if isinstance(path_or_dict, Mapping):
        return dict(path_or_dict)
    try:
        text = Path(path_or_dict).read_bytes()
    except OSError as error:
        raise FhirImportError(
            name, f"cannot read the file ({error.strerror}).", code="unreadable"
        ) from error
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FhirImportError(name, f"not JSON ({error}).", code="not_json") from error


def _validate(name: str, data: Any) -> list[Any]:
    """The bundle's resources that Carnet stores, checked by fhir.resources (its R4B
    models accept Synthea's R4), each on its own; None for the others. The others are
    only counted, so they are not checked beyond being resources of FHIR: checking a
    Claim that nothing reads cost most of an import."""
    kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
    if kind != "Bundle":
        raise FhirImportError(
            name, f"not a FHIR Bundle (resourceType: {kind!r}).", code="not_a_bundle"
        )
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise FhirImportError(name, "refused by the FHIR R4 validation: entry: not a list")
    checked: list[Any] = []
    for index, fhir_entry in enumerate(entries):
        where = f"entry.{index}"
        if not isinstance(fhir_entry, dict):
            raise FhirImportError(
                name, f"refused by the FHIR R4 validation: {where}: not an object"
            )
        resource = fhir_entry.get("resource")
        if resource is None:
            checked.append(None)
            continue
        resource_type = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(resource_type, str) or not _is_resource_type(resource_type):
            raise FhirImportError(
                name,
                f"refused by the FHIR R4 validation: {where}.resource.resourceType:"
                f" not a FHIR resource type ({resource_type!r})",
            )
        if resource_type not in SUPPORTED:
            checked.append(None)
            continue
        try:
            checked.append(get_fhir_model_class(resource_type).model_validate(resource))
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            raise FhirImportError(
                name,
                "refused by the FHIR R4 validation:"
                f" {_pydantic_errors(error, f'{where}.resource')}",
            ) from error
        except (KeyError, TypeError) as error:
            raise FhirImportError(
                name, f"refused by the FHIR R4 validation: {where}.resource: {error!r}"
            ) from error
    return checked


def load_models() -> None:
    """Load fhir.resources' models of the types Carnet stores (it loads a model on its
    first use, a tenth of a second for these): processes forked afterwards share them
    instead of each loading its own."""
    for resource_type in SUPPORTED:
        get_fhir_model_class(resource_type)


def _is_resource_type(name: str) -> bool:
    """A type fhir.resources knows (without loading its model)."""
    return name[:1].isupper() and name.isalnum() and hasattr(fhirtypes, f"{name}Type")


def _pydantic_errors(error: ValueError, where: str) -> str:
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return f"{where}: {error}"
    found = errors()
    described = [
        f"{'.'.join([where, *(str(part) for part in item['loc'])])}: {item['msg']}"
        for item in found[:3]
    ]
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(described) + more


def _source(data: dict[str, Any], name: str) -> str:
    meta = data.get("meta")
    meta_source = meta.get("source") if isinstance(meta, dict) else None
    return str(meta_source or name)[:200]


# --- The import of one bundle -----------------------------------------------------------


@dataclass
class _Entry:
    """One resource of the bundle, with the key it is remembered by."""

    type: str
    key: str  # the FHIR id, or the entry's fullUrl
    resource: Any  # a fhir.resources model (None for a type Carnet does not store)
    raw: dict[str, Any]  # the same resource as JSON, to look for references

    @property
    def label(self) -> str:
        return f"{self.type}/{self.key}"


class _BundleImport:
    """The state of one import: what the bundle holds, what is already in Carnet."""

    def __init__(
        self,
        *,
        actor: Actor,
        practice: Practice,
        gp: Person,
        name: str,
        source: str,
        raw: dict[str, Any],
        resources: list[Any],
        confirm_not_duplicate: bool,
    ) -> None:
        self.actor = actor
        self.practice = practice
        self.gp = gp
        self.source = source
        self.confirm_not_duplicate = confirm_not_duplicate
        self.report = ImportReport(name=name, source=source)
        self.entries = self._entries(raw, resources)
        self.by_reference: dict[str, _Entry] = {}
        for entry, full_url in self.entries:
            self.by_reference[f"{entry.type}/{entry.key}"] = entry
            if full_url:
                self.by_reference[full_url] = entry
        # (FHIR type, key) -> the Carnet row it became, in an earlier import or this one.
        self.targets: dict[tuple[str, str], int] = {}
        self.known: set[tuple[str, str]] = set()
        self.accesses: dict[int, PatientAccess] = {}
        # The patients the policy let this actor write to, decided once per bundle each.
        self.writable: set[int] = set()
        self.patient_ids: set[int] = set()
        self.new_rows: list[ImportedResource] = []
        # Checked entries of the type being imported, written together (_flush).
        self.pending: list[tuple[_Entry, str, str, ClinicalEntry]] = []
        self.pending_lines: list[PrescriptionItem] = []
        self.prescribers: dict[int, HistoricalPrescriptions] = {}
        # What was created for each patient: FHIR resources, and rows by Carnet type.
        self.resources_of: dict[int, set[tuple[str, str]]] = {}
        self.created_of: dict[int, Counter[str]] = {}

    def _entries(
        self, raw: dict[str, Any], resources: list[Any]
    ) -> list[tuple[_Entry, str | None]]:
        found = []
        raw_entries = raw.get("entry") or []
        for index, (fhir_entry, resource) in enumerate(zip(raw_entries, resources, strict=True)):
            data = fhir_entry.get("resource")
            if data is None:
                self.report.skipped.append(f"entry {index}: no resource")
                continue
            kind = data["resourceType"]
            full_url = fhir_entry.get("fullUrl")
            key = data.get("id") or full_url
            if not key:
                self.report.skipped.append(f"entry {index} ({kind}): neither id nor fullUrl")
                continue
            found.append((_Entry(kind, str(key), resource, data), full_url and str(full_url)))
        self.report.resources = len(raw_entries)
        return found

    def run(self) -> ImportReport:
        self._load_known()
        if not self.confirm_not_duplicate:
            # Another file imported at the same time may register the same person: its
            # duplicate check and ours take turns (the days of birth held till commit).
            hold_registrations(
                self.practice.pk,
                (
                    entry.resource.birthDate
                    for entry, _full_url in self.entries
                    if entry.type == "Patient"
                    and (entry.type, entry.key) not in self.known
                    and isinstance(entry.resource.birthDate, date)
                ),
            )
        by_type: dict[str, list[_Entry]] = {kind: [] for kind in SUPPORTED}
        seen: set[tuple[str, str]] = set()
        for entry, _full_url in self.entries:
            if entry.type not in by_type:
                self.report.unsupported[entry.type] += 1
            elif (entry.type, entry.key) in seen:
                self.report.skipped.append(f"{entry.label}: twice in the bundle")
            else:
                seen.add((entry.type, entry.key))
                by_type[entry.type].append(entry)
        for kind in SUPPORTED:
            for entry in by_type[kind]:
                self._import(entry)
            # Written type by type: what comes next refers to it (a consultation).
            self._flush(kind)
        try:
            with transaction.atomic():
                insert_through_staging(ImportedResource, self.new_rows)
        except IntegrityError as error:
            # The unique constraint caught another import of the same resources running
            # at the same time: this one stores nothing.
            raise FhirImportError(
                self.report.name,
                "imported at the same time by someone else; nothing stored, import it again.",
                code="conflict",
            ) from error
        return self.report

    def _load_known(self) -> None:
        keys = {entry.key for entry, _full_url in self.entries if entry.type in SUPPORTED}
        keys |= {
            f"{entry.key}{COMPONENT}{index}"
            for entry, _full_url in self.entries
            if entry.type == "Observation"
            for index in range(len(entry.resource.component or []))
        }
        rows = ImportedResource.objects.filter(
            practice=self.practice, resource_id__in=keys
        ).values_list("resource_type", "resource_id", "target_id")
        for resource_type, resource_id, target_id in rows:
            base = resource_id.split(COMPONENT, 1)[0]
            self.known.add((resource_type, base))
            self.targets[(resource_type, resource_id)] = target_id

    def _import(self, entry: _Entry) -> None:
        self._report_unresolved(entry)
        if (entry.type, entry.key) in self.known:
            self.report.already_imported[entry.type] += 1
            return
        with self._failing_as(entry.label):
            IMPORTERS[entry.type](self, entry)

    @contextmanager
    def _failing_as(self, label: str) -> Iterator[None]:
        """Carnet's refusals as the bundle's failure, naming the resource (or the type)."""
        try:
            yield
        except FhirImportError:
            raise
        except PermissionDenied as error:
            raise FhirImportError(
                self.report.name, f"{label}: refused: {error}", code="not_allowed"
            ) from error
        except ValidationError as error:
            raise FhirImportError(
                self.report.name, f"{label}: {_validation_text(error)}", code="rejected"
            ) from error
        except (ValueError, DatabaseError) as error:
            raise FhirImportError(self.report.name, f"{label}: {error}", code="rejected") from error

    def _add(
        self,
        entry: _Entry,
        access: PatientAccess,
        model: type[ClinicalEntry],
        target_type: str,
        key: str = "",
        **fields: Any,
    ) -> None:
        """One entry, checked as ``entry_create`` checks it, written with the others of
        its type (``_flush``)."""
        row = entry_build(actor=self.actor, access=access, model=model, **fields)
        self.pending.append((entry, target_type, key, row))

    def _flush(self, kind: str) -> None:
        """Write the checked entries of one FHIR type, table by table, through a staging
        table under row-level security, then remember them."""
        if not self.pending:
            return
        by_model: dict[type[ClinicalEntry], list[ClinicalEntry]] = {}
        for _entry, _target_type, _key, row in self.pending:
            by_model.setdefault(type(row), []).append(row)
        with self._failing_as(kind):
            for model, rows in by_model.items():
                insert_through_staging(model, rows)
            for line in self.pending_lines:
                line.prescription = line.prescription  # its id, now that it is saved
            insert_through_staging(PrescriptionItem, self.pending_lines)
        self.pending_lines.clear()
        for entry, target_type, key, row in self.pending:
            self._remember(entry, target_type, row.pk, key, patient_id=row.patient_id)
        self.pending.clear()

    # --- references

    def _report_unresolved(self, entry: _Entry) -> None:
        for reference, display in _references(entry.raw):
            if reference.startswith("#") or reference in self.by_reference:
                continue
            self.report.unresolved.append(UnresolvedReference(entry.label, reference, display))

    def _resolve(self, reference: Any) -> _Entry | None:
        if reference is None or not reference.reference:
            return None
        return self.by_reference.get(reference.reference)

    def _target(self, reference: Any, kind: str) -> int | None:
        """The Carnet id of what a reference points to, if it was imported."""
        entry = self._resolve(reference)
        if entry is None or entry.type != kind:
            return None
        return self.targets.get((kind, entry.key))

    def _access(self, entry: _Entry, reference: Any) -> PatientAccess | None:
        """The patient a resource is about, with what the policy needs about them."""
        patient_id = self._target(reference, "Patient")
        if patient_id is None:
            shown = reference.reference if reference is not None else "none"
            self.report.skipped.append(f"{entry.label}: its patient is not in the bundle ({shown})")
            return None
        access = self.accesses.get(patient_id)
        if access is None:
            # Imported earlier: read through the records selector (policy, audit).
            patient = patient_get(actor=self.actor, patient_id=patient_id)
            while patient.merged_into_id:
                patient = patient_get(actor=self.actor, patient_id=patient.merged_into_id)
            access = access_for(patient)
            self.accesses[patient_id] = access
        if access.patient.pk not in self.writable:
            # The policy decides once per patient and bundle (a refusal is audited and
            # fails the bundle); what is written is audited once per patient.
            records_access.require(
                self.actor,
                Action.WRITE,
                Category.CLINICAL,
                access.patient,
                access=access,
                audit_success=False,
            )
            self.writable.add(access.patient.pk)
        self.patient_ids.add(access.patient.pk)
        return access

    def _remember(
        self, entry: _Entry, target_type: str, target_id: int, key: str = "", *, patient_id: int
    ) -> None:
        key = key or entry.key
        self.targets[(entry.type, key)] = target_id
        self.report.created[target_type] += 1
        self.resources_of.setdefault(patient_id, set()).add((entry.type, entry.key))
        self.created_of.setdefault(patient_id, Counter())[target_type] += 1
        self.new_rows.append(
            ImportedResource(
                practice=self.practice,
                source=self.source,
                resource_type=entry.type,
                resource_id=key,
                target_type=target_type,
                target_id=target_id,
            )
        )

    def _prescription(
        self,
        entry: _Entry,
        *,
        access: PatientAccess,
        prescribed_on: date,
        encounter_id: int | None,
        renewals: int,
        drug_label: str,
        posology: str,
        duration_days: int,
    ) -> None:
        """A prescription dated from the source, with one free-text line, checked and
        with its alerts as ``prescription_create`` keeps them."""
        builder = self.prescribers.get(access.patient.pk)
        if builder is None:
            builder = HistoricalPrescriptions(actor=self.actor, access=access)
            self.prescribers[access.patient.pk] = builder
        prescription, lines = builder.build(
            items=[
                ItemInput(
                    posology=posology[:300],
                    duration_days=min(max(duration_days, 1), 366),
                    drug_label=drug_label[:300],
                )
            ],
            renewals=min(renewals, 11),
            encounter_id=encounter_id,
            prescribed_on=prescribed_on,
        )
        self.pending.append((entry, "prescription", "", prescription))
        self.pending_lines.extend(lines)

    def _skip(self, entry: _Entry, why: str) -> None:
        self.report.skipped.append(f"{entry.label}: {why}")

    # --- one function per resource type

    def patient(self, entry: _Entry) -> None:
        resource = entry.resource
        identity = _patient_identity(resource)
        if resource.deceasedBoolean:
            self.report.notes["Patient deceased without a date: not recorded"] += 1
        try:
            patient = patient_create(
                actor=self.actor,
                gp_id=self.gp.pk,
                confirm_not_duplicate=self.confirm_not_duplicate,
                **identity,
            )
        except ValidationError as error:
            if _validation_code(error) != "possible_duplicate":
                raise
            born = identity["birth_date"].strftime("%d/%m/%Y")
            raise FhirImportError(
                self.report.name,
                f"{entry.label} ({identity['birth_name']} {identity['given_names']}, born"
                f" {born}): a patient with a close name and the same birth date is already"
                " registered in this practice. Check; if they are different people, import"
                " again confirming it is not a duplicate.",
                code="possible_duplicate",
            ) from error
        self.accesses[patient.pk] = access_for(patient)
        self.patient_ids.add(patient.pk)
        self._remember(entry, "patient", patient.pk, patient_id=patient.pk)

    def encounter(self, entry: _Entry) -> None:
        resource = entry.resource
        if resource.status in ("cancelled", "entered-in-error"):
            return self._skip(entry, f"status {resource.status}")
        occurred_at = _instant(resource.period.start if resource.period else None)
        if occurred_at is None:
            return self._skip(entry, "no date (period.start)")
        access = self._access(entry, resource.subject)
        if access is None:
            return None
        klass = resource.class_fhir.code if resource.class_fhir else None
        kind = ENCOUNTER_KINDS.get(klass or "")
        if kind is None:
            self.report.notes[f"Encounter class {klass} imported as an office consultation"] += 1
        reason = _first_text(resource.reasonCode) or _first_text(resource.type) or "Consultation"
        self._add(
            entry,
            access,
            Encounter,
            "encounter",
            occurred_at=occurred_at,
            kind=kind or Encounter.Kind.OFFICE,
            reason=reason,
        )
        return None

    def condition(self, entry: _Entry) -> None:
        resource = entry.resource
        verification = _code(resource.verificationStatus)
        if verification in ("entered-in-error", "refuted"):
            return self._skip(entry, f"verification status {verification}")
        label = _text(resource.code)
        if not label:
            return self._skip(entry, "no code or text")
        access = self._access(entry, resource.subject)
        if access is None:
            return None
        resolved = _code(resource.clinicalStatus) in ("resolved", "inactive", "remission")
        onset = resource.onsetDateTime or (
            resource.onsetPeriod.start if resource.onsetPeriod else None
        )
        code = _coding_code(resource.code, ICD10_SYSTEMS, max_length=8)
        if code and cim10_code(code) is None:
            # The record only takes codes of the French list; the text stays.
            self.report.notes[f"CIM-10 code {code} not in the French list: kept as text"] += 1
            code = ""
        self._add(
            entry,
            access,
            Problem,
            "problem",
            label=label,
            code=code,
            clinical_status=(
                Problem.ClinicalStatus.RESOLVED if resolved else Problem.ClinicalStatus.ACTIVE
            ),
            onset=_day(onset),
            resolved_on=_day(resource.abatementDateTime) if resolved else None,
        )
        return None

    def allergy(self, entry: _Entry) -> None:
        resource = entry.resource
        verification = _code(resource.verificationStatus)
        if verification in ("entered-in-error", "refuted"):
            return self._skip(entry, f"verification status {verification}")
        substance = _text(resource.code)
        if not substance:
            return self._skip(entry, "no substance (code)")
        access = self._access(entry, resource.patient)
        if access is None:
            return None
        reactions = resource.reaction or []
        manifestations = [_text(m) for r in reactions for m in (r.manifestation or [])]
        severities = {r.severity for r in reactions if r.severity}
        severity = next(
            (level for level in ("severe", "moderate", "mild") if level in severities),
            Allergy.Severity.MODERATE,
        )
        self._add(
            entry,
            access,
            Allergy,
            "allergy",
            substance=substance,
            kind=(
                Allergy.Kind.INTOLERANCE if resource.type == "intolerance" else Allergy.Kind.ALLERGY
            ),
            reaction="; ".join(dict.fromkeys(m for m in manifestations if m)),
            severity=severity,
        )
        return None

    def medication_request(self, entry: _Entry) -> None:
        resource = entry.resource
        if resource.status == "entered-in-error":
            return self._skip(entry, "status entered-in-error")
        drug = _text(resource.medicationCodeableConcept)
        if not drug and resource.medicationReference is not None:
            medication = self._resolve(resource.medicationReference)
            drug = _text(medication.resource.code) if medication is not None else ""
        if not drug:
            return self._skip(entry, "no medication text")
        prescribed_on = _day(resource.authoredOn)
        if prescribed_on is None:
            return self._skip(entry, "no date (authoredOn)")
        access = self._access(entry, resource.subject)
        if access is None:
            return None
        texts = [d.text.strip() for d in resource.dosageInstruction or [] if d.text]
        dispense = resource.dispenseRequest
        self._prescription(
            entry,
            access=access,
            prescribed_on=prescribed_on,
            encounter_id=self._target(resource.encounter, "Encounter"),
            renewals=(dispense.numberOfRepeatsAllowed or 0) if dispense else 0,
            drug_label=drug,
            posology="; ".join(texts) or DEFAULT_POSOLOGY,
            duration_days=_duration_days(dispense),
        )
        return None

    def immunization(self, entry: _Entry) -> None:
        resource = entry.resource
        if resource.status in ("not-done", "entered-in-error"):
            return self._skip(entry, f"status {resource.status}")
        vaccine = _text(resource.vaccineCode)
        vaccinated_on = _day(resource.occurrenceDateTime)
        if not vaccine or vaccinated_on is None:
            return self._skip(entry, "no vaccine or no date (occurrenceDateTime)")
        access = self._access(entry, resource.patient)
        if access is None:
            return None
        dose = resource.doseQuantity
        self._add(
            entry,
            access,
            Immunization,
            "immunization",
            vaccine=vaccine,
            vaccinated_on=vaccinated_on,
            lot_number=resource.lotNumber or "",
            dose=f"{dose.value} {dose.unit or ''}".strip() if dose and dose.value else "",
        )
        return None

    def observation(self, entry: _Entry) -> None:
        resource = entry.resource
        if resource.status in ("cancelled", "entered-in-error"):
            return self._skip(entry, f"status {resource.status}")
        effective_at = _instant(
            resource.effectiveDateTime
            or resource.effectiveInstant
            or (resource.effectivePeriod.start if resource.effectivePeriod else None)
            or resource.issued
        )
        if effective_at is None:
            return self._skip(entry, "no date (effective[x])")
        value = _value(resource)
        parts: list[tuple[str, Any, _Value]] = []
        for index, component in enumerate(resource.component or []):
            component_value = _value(component)
            if component_value is not None:
                parts.append((f"{entry.key}{COMPONENT}{index}", component, component_value))
        if value is None and not parts:
            return self._skip(entry, "no value we can store")
        access = self._access(entry, resource.subject)
        if access is None:
            return None
        encounter_id = self._target(resource.encounter, "Encounter")
        if value is not None:
            self._observation(entry, access, resource.code, value, effective_at, encounter_id)
        for key, component, component_value in parts:
            self._observation(
                entry, access, component.code, component_value, effective_at, encounter_id, key
            )
        if value is None:
            self.report.notes["Observation with components: one observation per component"] += 1
        return None

    def _observation(
        self,
        entry: _Entry,
        access: PatientAccess,
        concept: Any,
        value: _Value,
        effective_at: datetime,
        encounter_id: int | None,
        key: str = "",
    ) -> None:
        label = _text(concept)
        code = _coding_code(concept, {LOINC}, max_length=40) or _coding_code(
            concept, None, max_length=40
        )
        self._add(
            entry,
            access,
            Observation,
            "observation",
            key,
            encounter_id=encounter_id,
            effective_at=effective_at,
            code=code or label[:40],
            label=label,
            value=value.number,
            value_text=value.text,
            unit=value.unit,
            # History from elsewhere, not a new result waiting for the GP's review.
            reviewed=True,
        )


def _document_reference(self: _BundleImport, entry: _Entry) -> None:
    """A document that travels whole (a share's letter or report, base64): kept as a
    document of the record, through ``records.services.document_upload`` (the same
    checks on its content as an upload)."""
    raw = entry.raw
    if raw.get("status") == "entered-in-error":
        return self._skip(entry, "status entered-in-error")
    contents = raw.get("content") or []
    attachment = (contents[0] or {}).get("attachment", {}) if contents else {}
    if str(attachment.get("contentType", "")).split(";")[0] not in DOCUMENT_TYPES:
        # e.g. Synthea's clinical notes (text/plain): not a document the record keeps.
        self.report.unsupported[entry.type] += 1
        return None
    if not attachment.get("data"):
        return self._skip(entry, "no attached data (a link only)")
    try:
        data = base64.b64decode(attachment["data"], validate=True)
    except (ValueError, TypeError):
        return self._skip(entry, "attached data is not base64")
    access = self._access(entry, entry.resource.subject)
    if access is None:
        return None
    kinds = {value for value, _label in Document.Kind.choices}
    category = str(((raw.get("category") or [{}])[0] or {}).get("text", ""))
    created = str(attachment.get("creation", ""))[:10]
    try:
        document_date = date.fromisoformat(created) if created else timezone.localdate()
    except ValueError:
        document_date = timezone.localdate()
    document = document_upload(
        actor=self.actor,
        access=access,
        upload=io.BytesIO(data),
        size=len(data),
        title=str(raw.get("description") or attachment.get("title") or "Document")[:200],
        kind=category if category in kinds else Document.Kind.OTHER,
        document_date=document_date,
    )
    self._remember(entry, "document", document.pk, patient_id=access.patient.pk)
    return None


IMPORTERS: dict[str, Callable[[_BundleImport, _Entry], None]] = {
    "DocumentReference": _document_reference,
    "Patient": _BundleImport.patient,
    "Encounter": _BundleImport.encounter,
    "Condition": _BundleImport.condition,
    "AllergyIntolerance": _BundleImport.allergy,
    "MedicationRequest": _BundleImport.medication_request,
    "Immunization": _BundleImport.immunization,
    "Observation": _BundleImport.observation,
}


# --- Patients ---------------------------------------------------------------------------


def _patient_identity(resource: Any) -> dict[str, Any]:
    """patient_create's arguments from a FHIR Patient. No NIR: a foreign patient has none."""
    official, maiden = _names(resource.name or [])
    family = (official.family or "").strip() if official else ""
    if not family or resource.birthDate is None:
        raise ValidationError("A patient needs a family name and a birth date.")
    # French usage: the birth name is the maiden name when there is one; the family name
    # in use then is the used name.
    birth_name, used_name = family, ""
    if maiden is not None and maiden.family and maiden.family.strip() != family:
        birth_name, used_name = maiden.family.strip(), family
    address, postal_code, city = _address(resource.address or [])
    return {
        "birth_name": birth_name,
        "used_name": used_name,
        "given_names": " ".join(official.given or []).strip() if official else "",
        "sex": SEX.get(resource.gender or "", Patient.Sex.OTHER),
        "birth_date": resource.birthDate,
        "birth_place": _birth_place(resource.extension or []),
        "address": address,
        "postal_code": postal_code,
        "city": city,
        "phone": _telecom(resource.telecom or [], "phone"),
        "email": _telecom(resource.telecom or [], "email"),
        "deceased_on": _day(resource.deceasedDateTime),
    }


def _names(names: list[Any]) -> tuple[Any, Any]:
    def first(*uses: str | None) -> Any:
        return next((name for name in names if name.use in uses), None)

    official = first("official") or first("usual", None) or (names[0] if names else None)
    return official, first("maiden")


def _address(addresses: list[Any]) -> tuple[str, str, str]:
    home = next((a for a in addresses if a.use == "home"), addresses[0] if addresses else None)
    if home is None:
        return "", "", ""
    parts = [line.strip() for line in home.line or [] if line]
    # Carnet's address has no country: a foreign one says its state and country here.
    if home.country and home.country.upper() not in ("FR", "FRA", "FRANCE"):
        parts += [part for part in (home.state, home.country) if part]
    return ", ".join(parts), home.postalCode or "", home.city or ""


def _birth_place(extensions: list[Any]) -> str:
    for extension in extensions:
        if extension.url == BIRTH_PLACE and extension.valueAddress is not None:
            place = extension.valueAddress
            return ", ".join(part for part in (place.city, place.state, place.country) if part)
    return ""


def _telecom(telecoms: list[Any], system: str) -> str:
    values = [t for t in telecoms if t.system == system and t.value]
    preferred = next((t for t in values if t.use in ("mobile", "home")), None)
    chosen = preferred or (values[0] if values else None)
    return chosen.value.strip() if chosen else ""


# --- Codes, texts, dates, values --------------------------------------------------------


def _text(concept: Any) -> str:
    """A CodeableConcept as a person reads it: its text, else a coding's display or code."""
    if concept is None:
        return ""
    if concept.text and concept.text.strip():
        return str(concept.text.strip())
    for attribute in ("display", "code"):
        for coding in concept.coding or []:
            value = getattr(coding, attribute)
            if value and value.strip():
                return str(value.strip())
    return ""


def _first_text(concepts: list[Any] | None) -> str:
    return next((text for text in map(_text, concepts or []) if text), "")


def _code(concept: Any) -> str:
    """The code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    if concept is None:
        return ""
    return next((str(c.code) for c in concept.coding or [] if c.code), "")


def _coding_code(concept: Any, systems: set[str] | None, *, max_length: int) -> str:
    """The first code of one of ``systems`` (any system when None) that fits Carnet's field."""
    if concept is None:
        return ""
    for coding in concept.coding or []:
        in_system = systems is None or coding.system in systems
        if coding.code and in_system and len(coding.code) <= max_length:
            return str(coding.code)
    return ""


def _day(value: Any) -> date | None:
    """A FHIR date or dateTime as a date, in the practice's time zone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
        return timezone.localdate(aware)
    if isinstance(value, date):
        return value
    # A partial date ("2011", "2011-04"): its first day.
    parts = [int(part) for part in str(value).split("-")[:3]]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _instant(value: Any) -> datetime | None:
    """A FHIR dateTime as an aware datetime; a bare date is midnight, practice's time."""
    if value is None:
        return None
    if isinstance(value, datetime):
        # FHIR requires an offset with a time; without one, UTC is the least surprising.
        return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    day = _day(value)
    assert day is not None
    return datetime.combine(day, day_start(), tzinfo=timezone.get_current_timezone())


def _duration_days(dispense: Any) -> int:
    duration = dispense.expectedSupplyDuration if dispense is not None else None
    if duration is None or duration.value is None:
        return DEFAULT_DURATION_DAYS
    per_unit = {"d": 1, "wk": 7, "mo": 30, "a": 365}.get(duration.code or duration.unit or "", 1)
    return max(1, min(366, round(float(duration.value) * per_unit)))


@dataclass(frozen=True)
class _Value:
    number: Decimal | None = None
    text: str = ""
    unit: str = ""


def _value(element: Any) -> _Value | None:
    """The value of an Observation or of one of its components, as Carnet stores it."""
    quantity = element.valueQuantity
    if quantity is not None and quantity.value is not None:
        unit = quantity.code if quantity.system == UCUM and quantity.code else quantity.unit
        unit = unit or quantity.code or ""
        if quantity.comparator:  # "<5" is not 5: kept as text
            return _Value(text=f"{quantity.comparator}{quantity.value}", unit=unit)
        number = _decimal(quantity.value)
        if number is None:
            return _Value(text=str(quantity.value), unit=unit)
        return _Value(number=number, unit=unit)
    if element.valueCodeableConcept is not None and _text(element.valueCodeableConcept):
        return _Value(text=_text(element.valueCodeableConcept))
    if element.valueString and element.valueString.strip():
        return _Value(text=element.valueString.strip())
    if element.valueInteger is not None:
        return _Value(number=Decimal(element.valueInteger))
    if element.valueBoolean is not None:
        return _Value(text="true" if element.valueBoolean else "false")
    if element.valueDateTime is not None:
        return _Value(text=str(element.valueDateTime))
    return None


def _decimal(value: Any) -> Decimal | None:
    """Rounded to Carnet's three decimals; None when it does not fit (kept as text)."""
    try:
        number = Decimal(str(value)).quantize(THREE_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    return number if abs(number) <= LARGEST_VALUE else None


def _references(node: Any) -> Iterator[tuple[str, str]]:
    """Every reference in a resource (as JSON), with its display."""
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str):
            yield reference, str(node.get("display") or "")
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _validation_code(error: ValidationError) -> str | None:
    if hasattr(error, "error_list"):
        return next((e.code for e in error.error_list if e.code), None)
    return None


def _validation_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


# --- Audit ------------------------------------------------------------------------------


def _record_import(actor: Actor, report: ImportReport, run: _BundleImport) -> None:
    """One event per patient the bundle wrote to (or read, for a resource it skipped),
    naming how many resources were imported for them and the rows they became; one
    event without a patient when the bundle created nothing for anyone."""
    bundle = {
        "source": report.source,
        "already_imported": dict(report.already_imported),
        "unsupported": dict(report.unsupported),
        "skipped": len(report.skipped),
        "unresolved_references": len(report.unresolved),
    }
    patients = sorted(run.patient_ids | set(run.resources_of))
    if not patients:
        record_event(
            "fhir.import",
            actor=actor,
            category=Category.CLINICAL.value,
            target=f"file:{report.name}",
            details={**bundle, "created": dict(report.created), "patients": []},
        )
    for patient_id in patients:
        record_event(
            "fhir.import",
            actor=actor,
            patient_id=patient_id,
            category=Category.CLINICAL.value,
            target=f"file:{report.name}",
            details={
                **bundle,
                "resources": len(run.resources_of.get(patient_id, ())),
                "created": dict(run.created_of.get(patient_id, {})),
            },
        )


def _record_failure(actor: Actor, events: list[Any], name: str, reason: str) -> None:
    """After the rollback: keep the refusals, and say that the import failed."""
    kept = [event for event in events if event.fields["outcome"] != Outcome.SUCCESS]
    events.clear()
    record_event(
        "fhir.import",
        outcome=Outcome.FAILURE,
        actor=actor,
        category=Category.CLINICAL.value,
        target=f"file:{name}",
        reason=reason[:1000],
    )
    append([*kept, *events])
    events.clear()
