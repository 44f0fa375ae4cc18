"""FHIR R4 REST API: read and search, mounted at /fhir/r4/.

The same rules as the records REST API (``records.api``): a bearer token (or a verified
session) binds the call to one person in one practice, every read goes through the
records access policy (``records.access``) and leaves one audit event (channel ``fhir``,
set by the middleware from the path):

- ``Patient``: identity read (``records.selectors.patient_get`` / ``patient_search``);
- clinical types: clinical read of the record, then entry by entry (``may_see_entry``):
  a sensitive entry or one the patient hid from the reader is left out of searches and
  refused (403, audited) when asked for by id;
- ``Consent`` and ``AuditEvent``: administrative read (no clinical content);
- a patient of another practice is invisible (row-level security): 404.

Errors are OperationOutcome resources with the HTTP status (400 bad search parameter,
401, 403, 404, 405, 406). ``GET /fhir/r4/metadata`` is public: it holds no data.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import metadata as package_metadata
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import F, Model, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from core.access.models import SharingConsent
from core.access.policy import Action, Actor, Category, Purpose
from core.access.selectors import consents_of
from core.access.services import AccessDenied
from core.accounts.models import Person
from core.api import CarnetAPIView, PracticeAPIMixin
from core.api import exception_handler as api_exception_handler
from core.audit.models import AuditEvent
from core.audit.selectors import events_for_patient
from core.audit.services import record_event
from records import access as policy
from records import selectors
from records.models import (
    Allergy,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from records.models.clinical import EntryStatus
from records.selectors.patients import patient_with_access
from sharing import fhir_paging, fhir_render

logger = logging.getLogger(__name__)

FHIR_VERSION = "4.0.1"
DEFAULT_COUNT = 50
MAX_COUNT = 200
# patient_search ranks its matches; the FHIR search pages through at most this many.
PATIENT_SEARCH_LIMIT = 500


# --- rendering and errors ---------------------------------------------------------------


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"


class PlainJSONRenderer(JSONRenderer):
    """For clients that ask for application/json: the same body."""


class InvalidSearch(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_search"


ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
}


def operation_outcome(status_code: int, message: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status_code, "exception"),
                "diagnostics": message,
            }
        ],
    }


def fhir_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Carnet's error handling (status, headers, message in the reader's language), with
    the body a FHIR client expects: an OperationOutcome."""
    response = api_exception_handler(exc, context)
    if response is None:
        # Not an API error: a fault. The middleware rolls the request back on a 500.
        logger.error("FHIR request failed", exc_info=exc)
        message = _("Something went wrong on our side. Nothing was saved; please try again.")
        return Response(operation_outcome(500, message), status=500)
    error = response.data["error"]
    message = str(error.get("message", ""))
    if "fields" in error:
        message = f"{message} {error['fields']}"
    response.data = operation_outcome(response.status_code, message)
    return response


# --- search parameters ------------------------------------------------------------------


# Parameters every search accepts, besides the type's own.
RESULT_PARAMETERS = {"_count", "_offset", "_cursor", "_format", "_pretty"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
# Ids are row ids: at most 18 digits fit PostgreSQL's bigint.
ROW_ID = re.compile(r"[0-9]{1,18}")
PATIENT_REFERENCE = re.compile(r"(?:(?:https?://\S+/)?Patient/)?([0-9]{1,18})")
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
DATE_PREFIXES = {"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}
SUPPORTED_PREFIXES = {"eq", "gt", "lt", "ge", "le"}
DATE_VALUE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(T.+)?)?)?", re.DOTALL)


@dataclass(frozen=True)
class Paging:
    count: int
    offset: int
    cursor: str = ""  # from a next link: the page starts after this row (fhir_paging)


def paging(request: Request) -> Paging:
    """``_count`` (default 50, at most 200; 0 gives the total only), ``_offset``, and
    ``_cursor`` (set by the server in next links; ``_offset`` then only numbers the page)."""

    def integer(name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not WHOLE_NUMBER.fullmatch(raw):
            raise InvalidSearch(_("%(name)s must be a whole number.") % {"name": name})
        return int(raw)

    return Paging(
        count=min(integer("_count", DEFAULT_COUNT), MAX_COUNT),
        offset=integer("_offset", 0),
        cursor=request.query_params.get("_cursor", ""),
    )


def page_of(rows: QuerySet[Any], page: Paging, resource_type: str) -> tuple[list[Any], str]:
    """The page's rows, and the cursor for the next page ("" when this search pages by
    offset only): after the cursor's row if one was given, else at the offset."""
    if not page.count:
        return [], ""
    keys = fhir_paging.keys_of(rows.query.order_by)
    if page.cursor:
        try:
            if keys is None:
                raise fhir_paging.BadCursor("this search pages by offset")
            rows = rows.filter(fhir_paging.rows_after(page.cursor, keys, resource_type))
        except fhir_paging.BadCursor as error:
            raise InvalidSearch(bad_cursor_message()) from error
        found = list(rows[: page.count])
    else:
        found = list(rows[page.offset : page.offset + page.count])
    if keys is None or not found:
        return found, ""
    return found, fhir_paging.cursor_after(found[-1], keys, resource_type)


def bad_cursor_message() -> str:  # translated when raised, in the reader's language
    return _("This page link is not valid for this search: start again from the first page.")


def check_parameters(request: Request, resource_type: str, supported: dict[str, Any]) -> None:
    """Refuse a parameter this server does not support (unless the client asked for
    lenient handling), so that a typo does not silently widen a search."""
    lenient = "handling=lenient" in request.META.get("HTTP_PREFER", "").replace(" ", "")
    for name in request.query_params:
        if name not in supported and name not in RESULT_PARAMETERS and not lenient:
            raise InvalidSearch(
                _("Unknown search parameter '%(name)s' for %(type)s. Supported: %(list)s.")
                % {
                    "name": name,
                    "type": resource_type,
                    "list": ", ".join(sorted(set(supported) | RESULT_PARAMETERS)),
                }
            )
    requested_format = request.query_params.get("_format")
    if requested_format and requested_format not in JSON_FORMATS:
        raise exceptions.NotAcceptable(_("Only JSON is served."))


def single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise InvalidSearch(_("Give '%(name)s' only once.") % {"name": name})
    return values[0] if values else None


def patient_id_of(request: Request, *, accepts_subject: bool) -> int:
    """The patient a clinical search is about: ``patient=42``, ``patient=Patient/42``
    or ``subject=Patient/42``. Required: there is no search across patients."""
    values = {
        value
        for name in (("patient", "subject") if accepts_subject else ("patient",))
        for value in request.query_params.getlist(name)
    }
    if not values:
        raise InvalidSearch(_("Say which patient: patient=<id>."))
    if len(values) > 1:
        raise InvalidSearch(_("Search one patient at a time."))
    match = PATIENT_REFERENCE.fullmatch(values.pop().strip())
    if match is None:
        raise InvalidSearch(_("The patient must be given as <id> or Patient/<id>."))
    return int(match.group(1))


@dataclass(frozen=True)
class DateRange:
    """What a FHIR date parameter value covers: [start, end)."""

    prefix: str
    start: date | datetime
    end: date | datetime


def parse_date(raw: str) -> DateRange:
    raw = raw.strip()
    prefix = raw[:2] if raw[:2] in DATE_PREFIXES else ""
    value = raw[len(prefix) :]
    prefix = prefix or "eq"
    if prefix not in SUPPORTED_PREFIXES:
        raise InvalidSearch(_("Date prefixes supported: eq, gt, ge, lt, le."))
    match = DATE_VALUE.fullmatch(value)
    if match is None:
        raise InvalidSearch(_("A date is YYYY, YYYY-MM, YYYY-MM-DD or a full date and time."))
    year, month, day, clock = match.groups()
    if not 1000 <= int(year) <= 9000:  # far from the ends of what dates can hold
        raise InvalidSearch(_("A date is between the years 1000 and 9000."))
    try:
        if clock:
            # An unencoded "+01:00" in a query string arrives as " 01:00".
            moment = datetime.fromisoformat(value.replace(" ", "+"))
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            precision = timedelta(seconds=1) if clock.count(":") >= 2 else timedelta(minutes=1)
            moment = moment.replace(microsecond=0)
            return DateRange(prefix, moment, moment + precision)
        if day:
            start = date(int(year), int(month), int(day))
            return DateRange(prefix, start, start + timedelta(days=1))
        if month:
            start = date(int(year), int(month), 1)
            following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            return DateRange(prefix, start, following)
        return DateRange(prefix, date(int(year), 1, 1), date(int(year) + 1, 1, 1))
    except (ValueError, OverflowError) as error:
        raise InvalidSearch(_("This date does not exist: %(value)s.") % {"value": value}) from error


def _as_moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.min))


def _as_day(value: date | datetime, *, end: bool) -> date:
    if not isinstance(value, datetime):
        return value
    if end:  # the day of the last instant covered, then the next day
        return timezone.localdate(value - timedelta(microseconds=1)) + timedelta(days=1)
    return timezone.localdate(value)


def date_filter(field_name: str, is_datetime: bool, raw: str) -> Q:
    """``date=ge2026-01-01``: the resource's date against the range the value covers."""
    covered = parse_date(raw)
    if is_datetime:
        start: date | datetime = _as_moment(covered.start)
        end: date | datetime = _as_moment(covered.end)
    else:
        start, end = _as_day(covered.start, end=False), _as_day(covered.end, end=True)
    if covered.prefix == "ge":
        return Q(**{f"{field_name}__gte": start})
    if covered.prefix == "gt":
        return Q(**{f"{field_name}__gte": end})
    if covered.prefix == "le":
        return Q(**{f"{field_name}__lt": end})
    if covered.prefix == "lt":
        return Q(**{f"{field_name}__lt": start})
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


def date_filters(request: Request, names: tuple[str, ...], field_name: str, is_dt: bool) -> Q:
    condition = Q()
    for name in names:
        for raw in request.query_params.getlist(name):
            condition &= date_filter(field_name, is_dt, raw)
    return condition


def token_codes(raw: str, system: str) -> list[str]:
    """``code=E11.9,I10`` or ``code=http://hl7.org/fhir/sid/icd-10|E11.9``: the codes
    asked for in our code system (a code of another system matches nothing here)."""
    codes = []
    for part in raw.split(","):
        asked_system, _bar, code = part.rpartition("|")
        if asked_system and asked_system != system:
            continue
        if code.strip():
            codes.append(code.strip())
    return codes


# --- bundles ----------------------------------------------------------------------------


def base_url(request: Request) -> str:
    return request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("metadata")


def page_link(
    request: Request, relation: str, offset: int, count: int, cursor: str = ""
) -> dict[str, str]:
    params = request.query_params.copy()
    params.pop("_cursor", None)
    if cursor:
        params["_cursor"] = cursor
    params["_offset"] = str(offset)
    params["_count"] = str(count)
    url = f"{request.build_absolute_uri(request.path)}?{params.urlencode()}"
    return {"relation": relation, "url": url}


def searchset(
    request: Request,
    resources: list[dict[str, Any]],
    total: int,
    page: Paging,
    next_cursor: str = "",
) -> dict[str, Any]:
    links = [page_link(request, "self", page.offset, page.count, page.cursor)]
    if page.count and page.offset + page.count < total:
        links.append(page_link(request, "next", page.offset + page.count, page.count, next_cursor))
    if page.count and page.offset > 0:
        links.append(page_link(request, "previous", max(page.offset - page.count, 0), page.count))
    base = base_url(request)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if resources:  # FHIR JSON has no empty arrays
        bundle["entry"] = [
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ]
    return bundle


# --- what is served ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicalKind:
    """How one clinical FHIR type is read from the record.

    ``via`` names the field from a served row to the entry the policy decides on: a
    MedicationRequest is one line of a prescription, and the prescription is the entry.
    """

    resource_type: str
    model: type[Model]
    date_field: str
    date_is_datetime: bool
    order: tuple[Any, ...]
    params: dict[str, tuple[str, str]]
    date_params: tuple[str, ...] = ("date",)
    code_field: str = ""
    code_system: str = ""
    via: str = ""
    related: tuple[str, ...] = ("author",)
    entry_model: type[Model] | None = field(default=None)

    @property
    def policy_model(self) -> type[Model]:
        return self.entry_model or self.model

    def prefix(self) -> str:
        return f"{self.via}__" if self.via else ""

    def entry_of(self, row: Any) -> Any:
        return getattr(row, self.via) if self.via else row

    def rows(self, patient: Patient) -> QuerySet[Any]:
        """The patient's active rows of this kind, in the order they are served."""
        prefix = self.prefix()
        return (
            self.model._default_manager.filter(
                **{f"{prefix}patient": patient, f"{prefix}status": EntryStatus.ACTIVE}
            )
            .select_related(*self.related)
            .order_by(*self.order)
        )


PATIENT_PARAM = ("reference", "The patient: <id> or Patient/<id> (required).")
SUBJECT_PARAM = ("reference", "Same as patient: Patient/<id>.")


def _date_param(what: str) -> tuple[str, str]:
    return ("date", f"{what}, with the prefixes eq (default), gt, ge, lt, le.")


CLINICAL_KINDS = {
    kind.resource_type: kind
    for kind in (
        ClinicalKind(
            "Encounter",
            Encounter,
            "occurred_at",
            True,
            ("-occurred_at", "-pk"),
            {"patient": PATIENT_PARAM, "subject": SUBJECT_PARAM, "date": _date_param("When")},
        ),
        ClinicalKind(
            "Condition",
            Problem,
            "onset",
            False,
            (F("onset").desc(nulls_last=True), "-pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "code": (
                    "token",
                    "CIM-10 code (E11.9 or E119), system http://hl7.org/fhir/sid/icd-10",
                ),
                "onset-date": _date_param("Onset"),
                "date": _date_param("Onset (same as onset-date)"),
            },
            date_params=("date", "onset-date"),
            code_field="code",
            code_system=fhir_render.ICD10_SYSTEM,
        ),
        ClinicalKind(
            "AllergyIntolerance",
            Allergy,
            "recorded_at",
            True,
            ("-recorded_at", "-pk"),
            {"patient": PATIENT_PARAM, "date": _date_param("When recorded")},
        ),
        ClinicalKind(
            "MedicationRequest",
            PrescriptionItem,
            "prescription__prescribed_on",
            False,
            ("-prescription__prescribed_on", "-prescription_id", "position", "pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "authoredon": _date_param("Date of the prescription"),
                "date": _date_param("Date of the prescription (same as authoredon)"),
            },
            date_params=("date", "authoredon"),
            via="prescription",
            related=("prescription", "prescription__author"),
            entry_model=Prescription,
        ),
        ClinicalKind(
            "Immunization",
            Immunization,
            "vaccinated_on",
            False,
            ("-vaccinated_on", "-pk"),
            {"patient": PATIENT_PARAM, "date": _date_param("Date of the vaccination")},
        ),
        ClinicalKind(
            "Observation",
            Observation,
            "effective_at",
            True,
            ("-effective_at", "-pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "code": ("token", "LOINC code (system http://loinc.org) or Carnet's own code"),
                "date": _date_param("Effective date"),
            },
            code_field="code",
            code_system=fhir_render.LOINC_SYSTEM,
        ),
        ClinicalKind(
            "DocumentReference",
            Document,
            "recorded_at",
            True,
            ("-document_date", "-pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "date": _date_param("When the document was added (DocumentReference.date)"),
            },
        ),
    )
}

OTHER_PARAMS: dict[str, dict[str, tuple[str, str]]] = {
    "Patient": {
        "name": ("string", "Any part of the birth or used name, or the first names."),
        "birthdate": ("date", "Exact birth date, YYYY-MM-DD."),
        "identifier": ("token", f"NIR, optionally as {fhir_render.NIR_SYSTEM}|<NIR>."),
    },
    "Consent": {"patient": PATIENT_PARAM, "date": _date_param("When the consent was recorded")},
    "AuditEvent": {"patient": PATIENT_PARAM, "date": _date_param("When it happened")},
}

SEARCH_PARAMS: dict[str, dict[str, tuple[str, str]]] = {
    **{name: kind.params for name, kind in CLINICAL_KINDS.items()},
    **OTHER_PARAMS,
}
RESOURCE_TYPES = ["Patient", *CLINICAL_KINDS, "Consent", "AuditEvent"]


def capability_statement(base: str) -> dict[str, Any]:
    try:
        version = package_metadata.version("carnet")
    except package_metadata.PackageNotFoundError:  # running from a source tree
        version = "0"
    resources = [
        {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "documentation": (
                "Search pages with _count (default 50, at most 200) and _offset; next links"
                " carry a _cursor instead where the order allows (keyset paging). "
                + (
                    f"At most {PATIENT_SEARCH_LIMIT} matches, best first."
                    if resource_type == "Patient"
                    else "patient is required."
                )
            ),
            "searchParam": [
                {"name": name, "type": kind, "documentation": documentation}
                for name, (kind, documentation) in SEARCH_PARAMS[resource_type].items()
            ],
        }
        for resource_type in RESOURCE_TYPES
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "publisher": "Carnet",
        "kind": "instance",
        "software": {"name": "Carnet", "version": version},
        "implementation": {"description": f"Carnet node {settings.CARNET_NODE_NAME}", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read and search, for one practice. Every read goes through the "
                    "practice's access policy and is recorded in its audit trail."
                ),
                "security": {
                    "cors": False,
                    "description": (
                        "Authorization: Bearer <personal API token>. The token is bound "
                        "to one person in one practice."
                    ),
                },
                "resource": resources,
            }
        ],
    }


# --- reading through the policy ---------------------------------------------------------


def _patient(patient_id: int) -> tuple[Patient, policy.PatientAccess]:
    """The patient of this practice (404 otherwise) and the policy's facts, in one round
    trip."""
    return patient_with_access(patient_id)


def _record_read(
    actor: Actor,
    patient: Patient,
    category: Category,
    *,
    target: str,
    details: dict[str, Any],
    purpose: Purpose = Purpose.CARE,
) -> None:
    record_event(
        "patient.read",
        actor=actor,
        patient_id=patient.pk,
        category=category.value,
        purpose=purpose.value,
        target=target,
        details={"view": "fhir", **details},
    )


def _require_record(
    actor: Actor,
    access: policy.PatientAccess,
    category: Category,
    purpose: Purpose = Purpose.CARE,
) -> None:
    """The record-level decision; a denial is audited, a success is recorded by the
    caller with what was read."""
    decision = policy.check(
        actor,
        Action.READ,
        category,
        access.patient,
        access=access,
        purpose=purpose,
        audit_success=False,
    )
    if not decision.allowed:
        raise AccessDenied(decision)


def hidden_entries(actor: Actor, access: policy.PatientAccess, kind: ClinicalKind) -> list[int]:
    """The patient's entries of this kind the actor may not see.

    Only a sensitive entry, or one the patient excluded someone from, can be hidden from
    a reader who may read the record; the policy decides on those few, so totals and
    paging are counted in SQL. Every entry served is still checked again.
    """
    model = kind.policy_model
    entry_type = getattr(model, "ENTRY_TYPE", "")
    excluded = [
        entry_id for (kind_name, entry_id) in access.entry_exclusions if kind_name == entry_type
    ]
    candidates = model._default_manager.filter(
        patient=access.patient, status=EntryStatus.ACTIVE
    ).filter(~Q(sensitivity="") | Q(pk__in=excluded))
    return [
        entry.pk
        for entry in candidates.only("pk", "author", "sensitivity")
        if not policy.may_see_entry(actor, access, entry)
    ]


@dataclass
class Found:
    """One page of a search: the rows and how many match in all."""

    rows: list[Any]
    total: int
    next_cursor: str = ""


def clinical_search(*, actor: Actor, kind: ClinicalKind, request: Request, page: Paging) -> Found:
    patient, access = _patient(patient_id_of(request, accepts_subject="subject" in kind.params))
    _require_record(actor, access, Category.CLINICAL)
    hidden = hidden_entries(actor, access, kind)
    rows = kind.rows(patient).exclude(**{f"{kind.prefix()}pk__in": hidden})
    rows = rows.filter(
        date_filters(request, kind.date_params, kind.date_field, kind.date_is_datetime)
    )
    if kind.code_field:
        for raw in request.query_params.getlist("code"):
            codes = token_codes(raw, kind.code_system)
            if kind.code_system == fhir_render.ICD10_SYSTEM:
                codes = [code.replace(".", "").upper() for code in codes]
            rows = rows.filter(**{f"{kind.code_field}__in": codes})
    total = rows.count()
    found, cursor = page_of(rows, page, kind.resource_type)
    shown = [row for row in found if policy.may_see_entry(actor, access, kind.entry_of(row))]
    _record_read(
        actor,
        patient,
        Category.CLINICAL,
        target=f"patient:{patient.pk}",
        details={
            "resource": kind.resource_type,
            "returned": len(shown),
            "hidden_entries": len(hidden),
        },
    )
    return Found(shown, total, cursor)


def clinical_read(*, actor: Actor, kind: ClinicalKind, row_id: int) -> Any:
    """One entry: decided and audited by ``require_entry``, as in the REST API."""
    related = (*kind.related, f"{kind.prefix()}patient")
    row = kind.model._default_manager.filter(pk=row_id).select_related(*related).first()
    if row is None:
        raise Http404(_("No such entry."))
    entry = kind.entry_of(row)
    access = policy.access_for(entry.patient)
    policy.require_entry(actor, Action.READ, access, entry)
    return row


def patient_search(*, actor: Actor, request: Request) -> list[Patient]:
    """``name``, ``birthdate`` and ``identifier`` as one query of
    ``records.selectors.patient_search`` (audited there as ``patient.search``)."""
    terms: list[str] = []
    for name in request.query_params.getlist("name"):
        # Only letters: digits and slashes would be read as a NIR or a birth date.
        terms += re.sub(r"[^\w'\-]+|[\d_]+", " ", name).split()
    birthdate = single(request, "birthdate")
    if birthdate is not None:
        covered = parse_date(birthdate)
        if covered.prefix != "eq" or covered.end != covered.start + timedelta(days=1):
            raise InvalidSearch(_("birthdate: give one exact date, YYYY-MM-DD."))
        terms.append(covered.start.strftime("%d/%m/%Y"))
    nir = ""
    identifier = single(request, "identifier")
    if identifier is not None:
        system, _bar, value = identifier.rpartition("|")
        if system and system != fhir_render.NIR_SYSTEM:
            return []  # no other identifier is held
        nir = value.replace(" ", "").upper()
        digits = re.match(r"[0-9]*", nir).group(0)  # type: ignore[union-attr]
        if len(digits) < 5:
            return []
        terms.append(digits)
    patients = list(
        selectors.patient_search(actor=actor, query=" ".join(terms), limit=PATIENT_SEARCH_LIMIT)
    )
    if nir:
        patients = [patient for patient in patients if patient.nir == nir]
    return patients


def _consent_patient(actor: Actor, patient_id: int) -> tuple[Patient, policy.PatientAccess]:
    patient, access = _patient(patient_id)
    _require_record(actor, access, Category.ADMINISTRATIVE, Purpose.ADMINISTRATION)
    return patient, access


def consent_read(*, actor: Actor, consent_id: int) -> SharingConsent:
    consent = SharingConsent.objects.filter(pk=consent_id).first()
    if consent is None:
        raise Http404(_("No such consent."))
    patient, _access = _consent_patient(actor, consent.patient_id)
    _record_read(
        actor,
        patient,
        Category.ADMINISTRATIVE,
        purpose=Purpose.ADMINISTRATION,
        target=f"consent:{consent.pk}",
        details={"resource": "Consent"},
    )
    return consent


def consent_search(*, actor: Actor, request: Request, page: Paging) -> Found:
    patient, _access = _consent_patient(actor, patient_id_of(request, accepts_subject=False))
    consents = consents_of(patient.pk).filter(date_filters(request, ("date",), "recorded_at", True))
    total = consents.count()
    rows, cursor = page_of(consents, page, "Consent")
    _record_read(
        actor,
        patient,
        Category.ADMINISTRATIVE,
        purpose=Purpose.ADMINISTRATION,
        target=f"patient:{patient.pk}",
        details={"resource": "Consent", "returned": len(rows)},
    )
    return Found(rows, total, cursor)


def audit_read(*, actor: Actor, event_id: int) -> AuditEvent:
    event = AuditEvent.objects.filter(pk=event_id, patient_id__isnull=False).first()
    if event is None or event.patient_id is None:
        raise Http404(_("No such event."))
    patient, _access = _consent_patient(actor, event.patient_id)
    _record_read(
        actor,
        patient,
        Category.ADMINISTRATIVE,
        purpose=Purpose.ADMINISTRATION,
        target=f"audit_event:{event.pk}",
        details={"resource": "AuditEvent"},
    )
    return event


def audit_search(*, actor: Actor, request: Request, page: Paging) -> Found:
    """The patient's access log (what ``records.printing.access_report`` prints)."""
    patient, _access = _consent_patient(actor, patient_id_of(request, accepts_subject=False))
    events = events_for_patient(patient_id=patient.pk).filter(
        date_filters(request, ("date",), "occurred_at", True)
    )
    total = events.count()
    rows, cursor = page_of(events, page, "AuditEvent")
    _record_read(
        actor,
        patient,
        Category.ADMINISTRATIVE,
        purpose=Purpose.ADMINISTRATION,
        target=f"patient:{patient.pk}",
        details={"resource": "AuditEvent", "returned": len(rows)},
    )
    return Found(rows, total, cursor)


def audit_resources(events: list[AuditEvent]) -> list[dict[str, Any]]:
    people = Person.objects.in_bulk({event.actor_id for event in events if event.actor_id})
    resources = []
    for event in events:
        person = people.get(event.actor_id) if event.actor_id else None
        who = person.full_name if person else (event.actor_label or "Carnet")
        resources.append(
            fhir_render.audit_event(event, who=who, observer=settings.CARNET_NODE_NAME)
        )
    return resources


# --- views ------------------------------------------------------------------------------


class FhirView(CarnetAPIView):
    """FHIR JSON in, OperationOutcome on errors."""

    renderer_classes = [FhirJSONRenderer, PlainJSONRenderer]
    # Described by its own CapabilityStatement (/fhir/r4/metadata), not by the OpenAPI
    # schema of Carnet's REST API.
    schema = None

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler


class MetadataApi(FhirView):
    """The CapabilityStatement: public, it holds no data and needs no practice."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(capability_statement(base_url(request)))


class UnknownApi(FhirView):
    """Any other path under /fhir/r4/: a FHIR 404 rather than an HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request, path: str = "") -> Response:
        raise exceptions.NotFound(
            _("This server serves %(types)s.") % {"types": ", ".join(RESOURCE_TYPES)}
        )

    post = put = patch = delete = get


class FhirPracticeApi(PracticeAPIMixin, FhirView):
    resource_type: ClassVar[str] = ""

    def render_row(self, row: Any) -> dict[str, Any]:
        resource_type = self.resource_type
        if resource_type == "Patient":
            return fhir_render.patient(row)
        if resource_type == "Consent":
            return fhir_render.consent(row)
        if resource_type == "AuditEvent":
            return audit_resources([row])[0]
        if resource_type == "MedicationRequest":
            return fhir_render.medication_request(row, today=timezone.localdate())
        if resource_type == "DocumentReference":
            page = reverse("records:document", args=[self.practice.slug, row.patient_id, row.pk])
            return fhir_render.document_reference(row, url=self.request.build_absolute_uri(page))
        return CLINICAL_RENDERERS[resource_type](row)


CLINICAL_RENDERERS = {
    "Encounter": fhir_render.encounter,
    "Condition": fhir_render.condition,
    "AllergyIntolerance": fhir_render.allergy_intolerance,
    "Immunization": fhir_render.immunization,
    "Observation": fhir_render.observation,
}


class ReadApi(FhirPracticeApi):
    """GET /fhir/r4/<type>/<id>."""

    def get(self, request: Request, resource_id: str) -> Response:
        if not ROW_ID.fullmatch(resource_id):
            raise Http404(_("No such resource."))
        row_id = int(resource_id)
        row: Any
        if self.resource_type == "Patient":
            row = selectors.patient_get(actor=self.actor, patient_id=row_id)
        elif self.resource_type == "Consent":
            row = consent_read(actor=self.actor, consent_id=row_id)
        elif self.resource_type == "AuditEvent":
            row = audit_read(actor=self.actor, event_id=row_id)
        else:
            kind = CLINICAL_KINDS[self.resource_type]
            row = clinical_read(actor=self.actor, kind=kind, row_id=row_id)
        return Response(self.render_row(row))


class SearchApi(FhirPracticeApi):
    """GET /fhir/r4/<type>?...: a searchset Bundle."""

    def get(self, request: Request) -> Response:
        check_parameters(request, self.resource_type, SEARCH_PARAMS[self.resource_type])
        page = paging(request)
        if self.resource_type == "Patient":
            if page.cursor:  # at most 50 best matches: paged by offset only
                raise InvalidSearch(bad_cursor_message())
            patients = patient_search(actor=self.actor, request=request)
            found = Found(patients[page.offset : page.offset + page.count], len(patients))
        elif self.resource_type == "Consent":
            found = consent_search(actor=self.actor, request=request, page=page)
        elif self.resource_type == "AuditEvent":
            found = audit_search(actor=self.actor, request=request, page=page)
        else:
            kind = CLINICAL_KINDS[self.resource_type]
            found = clinical_search(actor=self.actor, kind=kind, request=request, page=page)
        if self.resource_type == "AuditEvent":
            resources = audit_resources(found.rows)
        else:
            resources = [self.render_row(row) for row in found.rows]
        return Response(searchset(request, resources, found.total, page, found.next_cursor))
