"""FHIR R4 REST API: read, search, history and $everything, mounted at /fhir/r4/.

The same rules as the records REST API (``records.api``): a bearer token (or a verified
session) binds the call to one person in one practice, every read goes through the
records access policy (``records.access``) and leaves an audit event (channel ``fhir``,
set by the middleware from the path):

- ``Patient``: identity read (``records.selectors.patient_get``; searches through
  ``records.selectors.patient_lookup``);
- clinical types: clinical read of the record, then entry by entry (``may_see_entry``):
  a sensitive entry or one the patient hid from the reader is left out of searches and
  refused (403, audited) when asked for by id; an older version of an entry is judged
  as an entry of its own;
- ``_include``d and ``_revinclude``d resources go through the same decisions: a refused
  one is left out of the Bundle, and the refusal is audited;
- ``Consent`` and ``AuditEvent``: administrative read (no clinical content);
- a patient of another practice is invisible (row-level security): 404.

What each type can be searched by is one table (``SEARCH_PARAMS``, ``SORTS``,
``INCLUDES``, ``REVINCLUDES``); the CapabilityStatement is generated from it. Requests
are read by ``sharing.fhir.search``. Errors are OperationOutcome resources with the HTTP
status. ``GET /fhir/r4/metadata`` is public: it holds no data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import metadata as package_metadata
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class
from rest_framework import exceptions
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
from core.prepared import Bound
from records import access as records_access
from records import selectors
from records.selectors import EntryStatus, Patient, entry_rows, entry_type
from records.selectors.history import (
    EntryVersion,
    Write,
    as_write,
    entry_versions,
    line_at,
    line_versions,
    patient_versions,
    version_of,
    versions_of_entries,
    writes,
)
from records.selectors.patient_lookup import NameTerm, patients_found
from records.selectors.patients import patient_with_access, patients_with_access
from sharing.fhir import paging as fhir_paging
from sharing.fhir import render as fhir_render
from sharing.fhir.first_page import first_page
from sharing.fhir.search import (
    COMMON_PARAMS,
    PATIENT_PARAM,
    PATIENT_REFERENCE,
    ROW_ID,
    SUBJECT_PARAM,
    DateRange,
    Include,
    InvalidSearch,
    Query,
    SearchParam,
    codes_in,
    date_filter,
    date_filters,
    date_param,
    ids_of,
    ignore_or_refuse,
    parse_date,
    read_query,
    string_param,
    token_param,
    token_values,
)

__all__ = ["DateRange", "InvalidSearch", "date_filter", "parse_date"]

logger = logging.getLogger(__name__)

FHIR_VERSION = "4.0.1"
# What one request gathers at most besides the page: _revinclude'd resources (per type
# and patient) and each type of a $everything. Beyond, a warning says the rest is left.
INCLUDE_LIMIT = 500
EVERYTHING_LIMIT = 1000
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}


# --- rendering and errors ---------------------------------------------------------------


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"


class PlainJSONRenderer(JSONRenderer):
    """For clients that ask for application/json: the same body."""


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


def warnings_outcome(messages: list[str], code: str = "not-supported") -> dict[str, Any]:
    """What the server left aside, for a Bundle entry of search mode ``outcome``."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "warning", "code": code, "diagnostics": message} for message in messages
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


# --- what is served ---------------------------------------------------------------------

Filter = Callable[[str], Q]  # one value of a token parameter (a comma list) -> condition
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class ClinicalKind:
    """How one clinical FHIR type is read from the record.

    ``via`` names the field from a served row to the entry the policy decides on: a
    MedicationRequest is one line of a prescription, and the prescription is the entry.
    ``filters`` are the token parameters of the type, each a function of one value.
    ``history``: the entry keeps its earlier versions (``EntryRevision``; a
    MedicationRequest has its prescription's versions).
    ``source`` names the rows served and ``entry_source`` the entry decided on when it
    differs (``records.selectors.entry_rows``).
    """

    resource_type: str
    source: str
    date_field: str
    date_is_datetime: bool
    order: tuple[Any, ...]
    params: dict[str, SearchParam]
    date_params: tuple[str, ...] = ("date",)
    filters: dict[str, Filter] = field(default_factory=dict)
    via: str = ""
    related: tuple[str, ...] = ("author",)
    entry_source: str = ""
    date_nullable: bool = False
    history: bool = True

    @property
    def policy_source(self) -> str:
        return self.entry_source or self.source

    def prefix(self) -> str:
        return f"{self.via}__" if self.via else ""

    def entry_of(self, row: Any) -> Any:
        return getattr(row, self.via) if self.via else row

    def rows(self, patient: Patient) -> QuerySet[Any]:
        """The patient's active rows of this kind, in the order they are served."""
        prefix = self.prefix()
        return (
            entry_rows(self.source)
            .filter(**{f"{prefix}patient": patient, f"{prefix}status": EntryStatus.ACTIVE})
            .select_related(*self.related)
            .order_by(*self.order)
        )

    def sort_fields(self) -> dict[str, str]:
        fields = dict.fromkeys(self.date_params, self.date_field)
        return {**fields, "_lastUpdated": f"{self.prefix()}updated_at", "_id": "pk"}


def _code_filter(field_name: str, system: str, *, dotless: bool = False) -> Filter:
    def condition(raw: str) -> Q:
        codes = codes_in(raw, system)
        if dotless:
            codes = [code.replace(".", "").upper() for code in codes]
        return Q(**{f"{field_name}__in": codes}) if codes else NOTHING

    return condition


def _fixed_code_filter(system: str, code: str) -> Filter:
    """A token every resource of the type carries (e.g. a condition's category)."""

    def condition(raw: str) -> Q:
        return Q() if code in codes_in(raw, system) else NOTHING

    return condition


def _condition_clinical_status(raw: str) -> Q:
    # resolved is a kind of inactive in FHIR's hierarchy of clinical statuses.
    wanted = set(codes_in(raw, fhir_render.CONDITION_CLINICAL))
    condition = NOTHING
    if "active" in wanted:
        condition |= ~Q(clinical_status="resolved")
    if wanted & {"resolved", "inactive"}:
        condition |= Q(clinical_status="resolved")
    return condition


LOINC_REGEX = r"^[0-9]{1,8}-[0-9]$"


def _observation_category(raw: str) -> Q:
    wanted = set(codes_in(raw, fhir_render.OBSERVATION_CATEGORY))
    vital = Q(code__in=fhir_render.VITAL_SIGN_CODES)
    condition = NOTHING
    if "vital-signs" in wanted:
        condition |= vital
    if "laboratory" in wanted:
        condition |= Q(code__regex=LOINC_REGEX) & ~vital
    if "exam" in wanted:
        condition |= ~Q(code__regex=LOINC_REGEX)
    return condition


def _code_param(documentation: str) -> SearchParam:
    return token_param(documentation)


CLINICAL_KINDS = {
    kind.resource_type: kind
    for kind in (
        ClinicalKind(
            "Encounter",
            "encounter",
            "occurred_at",
            True,
            ("-occurred_at", "-pk"),
            {"patient": PATIENT_PARAM, "subject": SUBJECT_PARAM, "date": date_param("When")},
        ),
        ClinicalKind(
            "Condition",
            "problem",
            "onset",
            False,
            (F("onset").desc(nulls_last=True), "-pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "code": _code_param(
                    "CIM-10 code (E11.9 or E119), system http://hl7.org/fhir/sid/icd-10."
                ),
                "category": token_param("problem-list-item (every problem of the list)."),
                "clinical-status": token_param("active, resolved (inactive: resolved)."),
                "onset-date": date_param("Onset"),
                "date": date_param("Onset (same as onset-date)"),
            },
            date_params=("date", "onset-date"),
            filters={
                "code": _code_filter("code", fhir_render.ICD10_SYSTEM, dotless=True),
                "category": _fixed_code_filter(fhir_render.CONDITION_CATEGORY, "problem-list-item"),
                "clinical-status": _condition_clinical_status,
            },
            date_nullable=True,
        ),
        ClinicalKind(
            "AllergyIntolerance",
            "allergy",
            "recorded_at",
            True,
            ("-recorded_at", "-pk"),
            {
                "patient": PATIENT_PARAM,
                "clinical-status": token_param("active (every allergy recorded)."),
                "date": date_param("When recorded"),
            },
            filters={"clinical-status": _fixed_code_filter(fhir_render.ALLERGY_CLINICAL, "active")},
        ),
        ClinicalKind(
            "MedicationRequest",
            "prescription_item",
            "prescription__prescribed_on",
            False,
            ("-prescription__prescribed_on", "-prescription_id", "position", "pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "code": _code_param(f"CIS drug code, system {fhir_render.CIS_SYSTEM}."),
                "authoredon": date_param("Date of the prescription"),
                "date": date_param("Date of the prescription (same as authoredon)"),
            },
            date_params=("date", "authoredon"),
            filters={"code": _code_filter("drug_id", fhir_render.CIS_SYSTEM)},
            via="prescription",
            related=("prescription", "prescription__author"),
            entry_source="prescription",
        ),
        ClinicalKind(
            "Immunization",
            "immunization",
            "vaccinated_on",
            False,
            ("-vaccinated_on", "-pk"),
            {
                "patient": PATIENT_PARAM,
                "vaccine-code": _code_param(f"CIS code of the vaccine ({fhir_render.CIS_SYSTEM})."),
                "date": date_param("Date of the vaccination"),
            },
            filters={"vaccine-code": _code_filter("drug_id", fhir_render.CIS_SYSTEM)},
        ),
        ClinicalKind(
            "Observation",
            "observation",
            "effective_at",
            True,
            ("-effective_at", "-pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "code": _code_param("LOINC code (system http://loinc.org) or Carnet's own code."),
                "category": token_param("vital-signs, laboratory (other LOINC codes), exam."),
                "date": date_param("Effective date"),
            },
            filters={
                "code": _code_filter("code", fhir_render.LOINC_SYSTEM),
                "category": _observation_category,
            },
        ),
        ClinicalKind(
            "DocumentReference",
            "document",
            "recorded_at",
            True,
            ("-document_date", "-pk"),
            {
                "patient": PATIENT_PARAM,
                "subject": SUBJECT_PARAM,
                "date": date_param("When the document was added (DocumentReference.date)"),
            },
        ),
    )
}

PATIENT_PARAMS: dict[str, SearchParam] = {
    "family": string_param("Birth name or used name."),
    "given": string_param("One of the first names."),
    "name": string_param("Any part of the name: birth name, used name or first names."),
    "birthdate": date_param("Birth date"),
    "gender": token_param("female, male, unknown."),
    "identifier": token_param(f"The NIR, optionally as {fhir_render.NIR_SYSTEM}|<NIR>."),
}
OTHER_PARAMS: dict[str, dict[str, SearchParam]] = {
    "Patient": PATIENT_PARAMS,
    "Consent": {"patient": PATIENT_PARAM, "date": date_param("When the consent was recorded")},
    "AuditEvent": {"patient": PATIENT_PARAM, "date": date_param("When it happened")},
}

SEARCH_PARAMS: dict[str, dict[str, SearchParam]] = {
    name: {**COMMON_PARAMS, **params}
    for name, params in {
        "Patient": OTHER_PARAMS["Patient"],
        **{name: kind.params for name, kind in CLINICAL_KINDS.items()},
        "Consent": OTHER_PARAMS["Consent"],
        "AuditEvent": OTHER_PARAMS["AuditEvent"],
    }.items()
}
RESOURCE_TYPES = list(SEARCH_PARAMS)

# _sort keys: the field each one sorts on.
SORTS: dict[str, dict[str, str]] = {
    "Patient": {
        "family": "birth_name",
        "given": "given_names",
        "birthdate": "birth_date",
        "_lastUpdated": "updated_at",
        "_id": "pk",
    },
    **{name: kind.sort_fields() for name, kind in CLINICAL_KINDS.items()},
    "Consent": {"date": "recorded_at", "_lastUpdated": "last_updated", "_id": "pk"},
    "AuditEvent": {"date": "occurred_at", "_lastUpdated": "occurred_at", "_id": "pk"},
}

# _include (on the clinical type) and _revinclude (on Patient): between Patient and
# the clinical types, by their reference to the patient.
INCLUDES: dict[str, set[str]] = {
    name: {f"{name}:{param}" for param in ("patient", "subject") if param in kind.params}
    for name, kind in CLINICAL_KINDS.items()
}
REVINCLUDES: dict[str, set[str]] = {
    "Patient": {include for includes in INCLUDES.values() for include in includes}
}
# The types served with their versions: the patient's identity (``IdentityChange``) and
# the clinical entries that keep theirs.
HISTORY_TYPES = ["Patient", *(name for name, kind in CLINICAL_KINDS.items() if kind.history)]
HISTORY_PARAMS: dict[str, SearchParam] = {
    "_since": SearchParam("date", "Versions written at or after this instant."),
}
# A type's history looks at this many versions at most per request (a page is made of
# those the reader may see); beyond, a warning says to narrow it with _since.
HISTORY_SCAN_LIMIT = 5000
HISTORY_CHUNK = 200


def capability_statement(base: str) -> dict[str, Any]:
    try:
        version = package_metadata.version("carnet")
    except package_metadata.PackageNotFoundError:  # running from a source tree
        version = "0"
    resources = []
    for resource_type in RESOURCE_TYPES:
        interactions = ["read", "search-type"]
        if resource_type in HISTORY_TYPES:
            interactions += ["vread", "history-instance", "history-type"]
        resource: dict[str, Any] = {
            "type": resource_type,
            "interaction": [{"code": code} for code in interactions],
            "versioning": "versioned" if resource_type in HISTORY_TYPES else "no-version",
            "readHistory": resource_type in HISTORY_TYPES,
            "conditionalRead": "not-supported",
            "documentation": (
                "Search pages with _count (default 50, at most 200) and _offset; next links"
                " carry a _cursor instead where the order allows (keyset paging). _sort by "
                + ", ".join(sorted(SORTS[resource_type]))
                + "; _summary=true|false|count|data; _elements. "
                + (
                    "Reads answer an ETag; If-None-Match gives 304."
                    if resource_type != "Consent"
                    else ""
                )
                + ("" if resource_type == "Patient" else " patient is required.")
                + (
                    f" History: {resource_type}/<id>/_history(/<vid>), and {resource_type}"
                    "/_history (the practice's versions the reader may see, newest first;"
                    " _since, _count, _offset)."
                    if resource_type in HISTORY_TYPES
                    else ""
                )
            ),
            "searchParam": [
                {"name": name, "type": param.type, "documentation": param.documentation}
                for name, param in SEARCH_PARAMS[resource_type].items()
            ],
        }
        if INCLUDES.get(resource_type):
            resource["searchInclude"] = sorted(INCLUDES[resource_type])
        if REVINCLUDES.get(resource_type):
            resource["searchRevInclude"] = sorted(REVINCLUDES[resource_type])
        if resource_type == "Patient":
            resource["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": (
                        "GET Patient/<id>/$everything: the patient and what the reader may"
                        " see of the record; start, end, _since, _type."
                    ),
                }
            ]
        resources.append(resource)
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
                    "Read, search, history and Patient/$everything, for one practice. Every"
                    " read goes through the practice's access policy and is recorded in its"
                    " audit trail. Unknown search parameters are ignored and reported"
                    " (Prefer: handling=strict refuses them)."
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


# --- the shape of what is served --------------------------------------------------------


def base_url(request: Request) -> str:
    return request.build_absolute_uri(reverse("fhir-metadata")).removesuffix("metadata")


@cache
def summary_elements(resource_type: str) -> frozenset[str]:
    """The elements FHIR marks as part of the summary (Σ), and the required ones."""
    model = get_fhir_model_class(resource_type)
    names = {"resourceType", "id", "meta"}
    for info in model.model_fields.values():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("summary_element_property") or extra.get("element_required"):
            names.add(info.alias or "")
    return frozenset(names)


@cache
def required_elements(resource_type: str) -> frozenset[str]:
    model = get_fhir_model_class(resource_type)
    names = {"resourceType", "id", "meta"}
    for info in model.model_fields.values():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("element_required"):
            names.add(info.alias or "")
    return frozenset(names)


def _choice_base(name: str) -> str:
    """``onsetDateTime`` -> ``onset``: an element of choice answers to its base name."""
    for index in range(1, len(name)):
        if name[index].isupper():
            return name[:index]
    return name


def shaped(resource: dict[str, Any], query: Query | None) -> dict[str, Any]:
    """``_summary=true`` or ``_elements``: only those elements, marked SUBSETTED."""
    if query is None or not (query.summary == "true" or query.elements):
        return resource
    kind = resource["resourceType"]
    if query.summary == "true":
        keep = summary_elements(kind)
    else:
        keep = required_elements(kind) | set(query.elements)
    kept = {
        name: value
        for name, value in resource.items()
        if name in keep or _choice_base(name) in keep
    }
    meta = dict(kept.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    kept["meta"] = meta
    return kept


def with_meta(resource: dict[str, Any], version: int | None, updated: datetime | None) -> Any:
    """The resource with ``meta.versionId`` and ``meta.lastUpdated``, after its id."""
    meta: dict[str, Any] = {}
    if version is not None:
        meta["versionId"] = str(version)
    if updated is not None:
        meta["lastUpdated"] = fhir_render.instant(updated)
    head = {"resourceType": resource["resourceType"], "id": resource["id"]}
    if meta:
        head["meta"] = meta
    return {**head, **resource}


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


def bundle_entry(base: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def searchset(
    request: Request,
    query: Query,
    resources: list[dict[str, Any]],
    total: int,
    next_cursor: str = "",
    included: list[dict[str, Any]] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    count, offset = query.count, query.offset
    links = [page_link(request, "self", offset, count, query.cursor)]
    if count and not query.count_only and offset + count < total:
        links.append(page_link(request, "next", offset + count, count, next_cursor))
    if count and offset > 0:
        links.append(page_link(request, "previous", max(offset - count, 0), count))
    base = base_url(request)
    entries = [bundle_entry(base, shaped(resource, query), "match") for resource in resources]
    entries += [
        bundle_entry(base, shaped(resource, query), "include") for resource in included or []
    ]
    messages = [*query.ignored, *(warnings or [])]
    if messages:
        entries.append({"resource": warnings_outcome(messages), "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    return bundle


# --- paging and sorting -----------------------------------------------------------------


def order_of(query: Query, default: tuple[Any, ...], nullable: set[str] | None = None) -> list[Any]:
    """The ``_sort`` asked for (then the id, so that the order is total), or the
    default order of the type."""
    if not query.sort:
        return list(default)
    fields = SORTS[query.resource_type]
    order: list[Any] = []
    for key, descending in query.sort:
        name = fields[key]
        if nullable and name in nullable:
            expression = F(name)
            order.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
            )
        else:
            order.append(f"-{name}" if descending else name)
    if "pk" not in {fields[key] for key, _descending in query.sort}:
        order.append("pk")
    return order


def page_of(rows: QuerySet[Any], query: Query) -> tuple[list[Any], str]:
    """The page's rows, and the cursor for the next page ("" when this search pages by
    offset only): after the cursor's row if one was given, else at the offset."""
    if query.count_only:
        return [], ""
    keys = fhir_paging.keys_of(rows.query.order_by)
    if query.cursor:
        try:
            if keys is None:
                raise fhir_paging.BadCursor("this search pages by offset")
            rows = rows.filter(fhir_paging.rows_after(query.cursor, keys, query.resource_type))
        except fhir_paging.BadCursor as error:
            raise InvalidSearch(bad_cursor_message()) from error
        found = list(rows[: query.count])
    else:
        found = list(rows[query.offset : query.offset + query.count])
    if keys is None or not found:
        return found, ""
    return found, fhir_paging.cursor_after(found[-1], keys, query.resource_type)


def bad_cursor_message() -> str:  # translated when raised, in the reader's language
    return _("This page link is not valid for this search: start again from the first page.")


def patient_id_of(query: Query, *, accepts_subject: bool) -> int:
    """The patient a clinical search is about: ``patient=42``, ``patient=Patient/42``
    or ``subject=Patient/42``. Required: there is no search across patients."""
    values = {
        value.strip()
        for name in (("patient", "subject") if accepts_subject else ("patient",))
        for value in query.values(name)
    }
    if not values:
        raise InvalidSearch(_("Say which patient: patient=<id>."))
    if len(values) > 1 or any("," in value for value in values):
        raise InvalidSearch(_("Search one patient at a time."))
    match = PATIENT_REFERENCE.fullmatch(values.pop())
    if match is None:
        raise InvalidSearch(_("The patient must be given as <id> or Patient/<id>."))
    return int(match.group(1))


def common_filters(query: Query, updated_field: str, *, updated_is_datetime: bool = True) -> Q:
    """``_id`` and ``_lastUpdated``."""
    condition = Q()
    for raw in query.values("_id"):
        condition &= Q(pk__in=ids_of(raw))
    for raw in query.values("_lastUpdated"):
        condition &= date_filter(updated_field, updated_is_datetime, raw)
    return condition


# --- reading through the policy ---------------------------------------------------------


def _patient(patient_id: int) -> tuple[Patient, records_access.PatientAccess]:
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


def _may_read_record(
    actor: Actor,
    access: records_access.PatientAccess,
    category: Category,
    purpose: Purpose = Purpose.CARE,
) -> bool:
    """The record-level decision; a denial is audited, a success is recorded by the
    caller with what was read."""
    decision = records_access.check(
        actor,
        Action.READ,
        category,
        access.patient,
        access=access,
        purpose=purpose,
        audit_success=False,
    )
    return decision.allowed


def _require_record(
    actor: Actor,
    access: records_access.PatientAccess,
    category: Category,
    purpose: Purpose = Purpose.CARE,
) -> None:
    decision = records_access.check(
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


def hidden_entries(
    actor: Actor, access: records_access.PatientAccess, kind: ClinicalKind
) -> list[int]:
    """The patient's entries of this kind the actor may not see.

    Only a sensitive entry, or one the patient excluded someone from, can be hidden from
    a reader who may read the record; the policy decides on those few, so totals and
    paging are counted in SQL. Every entry served is still checked again.
    """
    source = kind.policy_source
    excluded = [
        entry_id
        for (kind_name, entry_id) in access.entry_exclusions
        if kind_name == entry_type(source)
    ]
    candidates = (
        entry_rows(source)
        .filter(patient=access.patient, status=EntryStatus.ACTIVE)
        .filter(~Q(sensitivity="") | Q(pk__in=excluded))
    )
    return [
        entry.pk
        for entry in candidates.only("pk", "author", "sensitivity")
        if not records_access.may_see_entry(actor, access, entry)
    ]


@dataclass
class Found:
    """One page of a search: the rows and how many match in all."""

    rows: list[Any]
    total: int
    next_cursor: str = ""


def clinical_rows(
    actor: Actor,
    access: records_access.PatientAccess,
    kind: ClinicalKind,
    query: Query,
    *,
    extra: Q | None = None,
) -> tuple[QuerySet[Any], int]:
    """The rows of a clinical search the actor may see (the record-level decision is
    the caller's), and how many were hidden."""
    hidden = hidden_entries(actor, access, kind)
    rows = kind.rows(access.patient).exclude(**{f"{kind.prefix()}pk__in": hidden})
    rows = rows.filter(
        date_filters(query, kind.date_params, kind.date_field, kind.date_is_datetime)
    )
    rows = rows.filter(common_filters(query, f"{kind.prefix()}updated_at"))
    for name, condition in kind.filters.items():
        for raw in query.values(name):
            rows = rows.filter(condition(raw))
    if extra is not None:
        rows = rows.filter(extra)
    nullable = {kind.date_field} if kind.date_nullable else set()
    return rows.order_by(*order_of(query, kind.order, nullable)), len(hidden)


def visible(
    actor: Actor, access: records_access.PatientAccess, kind: ClinicalKind, rows: list[Any]
) -> list[Any]:
    return [row for row in rows if records_access.may_see_entry(actor, access, kind.entry_of(row))]


def clinical_search(*, actor: Actor, kind: ClinicalKind, query: Query) -> Found:
    patient, access = _patient(patient_id_of(query, accepts_subject="subject" in kind.params))
    _require_record(actor, access, Category.CLINICAL)
    plain = first_page(actor, access, kind, query)
    if plain is not None:  # it hid nothing
        found, total, cursor, hidden = plain.rows, plain.total, plain.next_cursor, 0
    else:
        rows, hidden = clinical_rows(actor, access, kind, query)
        total = rows.count()
        found, cursor = page_of(rows, query)
    shown = visible(actor, access, kind, found)
    _record_read(
        actor,
        patient,
        Category.CLINICAL,
        target=f"patient:{patient.pk}",
        details={"resource": kind.resource_type, "returned": len(shown), "hidden_entries": hidden},
    )
    return Found(shown, total, cursor)


def clinical_read(*, actor: Actor, kind: ClinicalKind, row_id: int) -> Any:
    """One entry: decided and audited by ``require_entry``, as in the REST API."""
    related = (*kind.related, f"{kind.prefix()}patient")
    row = entry_rows(kind.source).filter(pk=row_id).select_related(*related).first()
    if row is None:
        raise Http404(_("No such entry."))
    entry = kind.entry_of(row)
    access = records_access.access_for(entry.patient)
    records_access.require_entry(actor, Action.READ, access, entry)
    return row


def _name_terms(query: Query, name: str) -> list[list[NameTerm]]:
    how = {"": "starts", "exact": "exact", "contains": "contains"}
    terms = []
    for modifier, raw in query.criteria.get(name, []):
        alternatives = [
            NameTerm(part.strip(), how[modifier]) for part in raw.split(",") if part.strip()
        ]
        terms.append(alternatives)
    return terms


GENDER_CODES = {"female": "F", "male": "M", "unknown": "X"}


def patient_conditions(query: Query) -> Q:
    """The patient's own columns: birth date, gender, NIR, id, last change."""
    condition = common_filters(query, "updated_at")
    condition &= date_filters(query, ("birthdate",), "birth_date", False)
    for raw in query.values("gender"):
        sexes = [
            GENDER_CODES[code]
            for system, code in token_values(raw)
            if code in GENDER_CODES and system in (None, fhir_render.GENDER_SYSTEM)
        ]
        condition &= Q(sex__in=sexes)
    for raw in query.values("identifier"):
        nirs = [
            code.replace(" ", "").upper()
            for system, code in token_values(raw)
            if system in (None, fhir_render.NIR_SYSTEM)
        ]
        condition &= Q(nir__in=[nir for nir in nirs if nir])
    return condition


def patient_search(*, actor: Actor, query: Query) -> Found:
    """Family, given and any name as FHIR strings, the other parameters on the
    patient's columns (``records.selectors.patient_lookup``; audited there)."""
    described = "&".join(
        f"{name}{':' + modifier if modifier else ''}={value}"
        for name, values in query.criteria.items()
        for modifier, value in values
    )
    patients = patients_found(
        actor=actor,
        family=_name_terms(query, "family"),
        given=_name_terms(query, "given"),
        name=_name_terms(query, "name"),
        where=patient_conditions(query),
        described_as=described,
    ).order_by(*order_of(query, ("birth_name", "given_names", "birth_date", "pk")))
    total = patients.count()
    rows, cursor = page_of(patients, query)
    return Found(rows, total, cursor)


def _record_administrative_read(
    actor: Actor, patient: Patient, target: str, details: dict[str, Any]
) -> None:
    """One event for a read of the patient's consents or access log (administrative
    data, read to administer the record)."""
    _record_read(
        actor,
        patient,
        Category.ADMINISTRATIVE,
        purpose=Purpose.ADMINISTRATION,
        target=target,
        details=details,
    )


def _consent_patient(actor: Actor, patient_id: int) -> tuple[Patient, records_access.PatientAccess]:
    patient, access = _patient(patient_id)
    _require_record(actor, access, Category.ADMINISTRATIVE, Purpose.ADMINISTRATION)
    return patient, access


def consent_read(*, actor: Actor, consent_id: int) -> SharingConsent:
    consent = SharingConsent.objects.filter(pk=consent_id).first()
    if consent is None:
        raise Http404(_("No such consent."))
    patient, _access = _consent_patient(actor, consent.patient_id)
    _record_administrative_read(actor, patient, f"consent:{consent.pk}", {"resource": "Consent"})
    return consent


def consent_rows(patient_id: int, query: Query | None) -> QuerySet[SharingConsent]:
    consents = consents_of(patient_id).annotate(
        last_updated=Coalesce(F("revoked_at"), F("recorded_at"))
    )
    if query is None:
        return consents
    consents = consents.filter(date_filters(query, ("date",), "recorded_at", True))
    consents = consents.filter(common_filters(query, "last_updated"))
    return consents.order_by(*order_of(query, ("-recorded_at", "-pk")))


def consent_search(*, actor: Actor, query: Query) -> Found:
    patient, _access = _consent_patient(actor, patient_id_of(query, accepts_subject=False))
    consents = consent_rows(patient.pk, query)
    total = consents.count()
    rows, cursor = page_of(consents, query)
    _record_administrative_read(
        actor, patient, f"patient:{patient.pk}", {"resource": "Consent", "returned": len(rows)}
    )
    return Found(rows, total, cursor)


def audit_read(*, actor: Actor, event_id: int) -> AuditEvent:
    event = AuditEvent.objects.filter(pk=event_id, patient_id__isnull=False).first()
    if event is None or event.patient_id is None:
        raise Http404(_("No such event."))
    patient, _access = _consent_patient(actor, event.patient_id)
    _record_administrative_read(
        actor, patient, f"audit_event:{event.pk}", {"resource": "AuditEvent"}
    )
    return event


def audit_search(*, actor: Actor, query: Query) -> Found:
    """The patient's access log (what ``records.printing.access_report`` prints)."""
    patient, _access = _consent_patient(actor, patient_id_of(query, accepts_subject=False))
    events = events_for_patient(patient_id=patient.pk).filter(
        date_filters(query, ("date",), "occurred_at", True)
    )
    events = events.filter(common_filters(query, "occurred_at"))
    events = events.order_by(*order_of(query, ("occurred_at", "seq")))
    total = events.count()
    rows, cursor = page_of(events, query)
    _record_administrative_read(
        actor, patient, f"patient:{patient.pk}", {"resource": "AuditEvent", "returned": len(rows)}
    )
    return Found(rows, total, cursor)


def audit_resources(events: list[AuditEvent]) -> list[dict[str, Any]]:
    people = Person.objects.in_bulk({event.actor_id for event in events if event.actor_id})
    resources = []
    for event in events:
        person = people.get(event.actor_id) if event.actor_id else None
        who = person.full_name if person else (event.actor_label or "Carnet")
        resource = fhir_render.audit_event(event, who=who, observer=settings.CARNET_NODE_NAME)
        resources.append(with_meta(resource, 1, event.occurred_at))
    return resources


# --- _include and _revinclude -----------------------------------------------------------


def included_patient(actor: Actor, patient_id: int, *, reason: str) -> Patient | None:
    """The patient a clinical resource points to, if the actor may read their identity
    (a refusal is audited, and the patient left out)."""
    patient, access = _patient(patient_id)
    if not _may_read_record(actor, access, Category.IDENTITY):
        return None
    _record_read(
        actor,
        patient,
        Category.IDENTITY,
        target=f"patient:{patient.pk}",
        details={"resource": "Patient", "included_by": reason},
    )
    return patient


def revincluded(
    actor: Actor, patients: list[Patient], includes: list[Include], query: Query
) -> tuple[list[tuple[ClinicalKind, Any]], list[str]]:
    """The clinical rows pointing to each patient of the page, as the policy lets the
    actor see them: a patient whose record the actor may not read gives nothing (the
    refusal is audited), an entry the actor may not see is left out."""
    kinds = []
    for include in includes:
        kind = CLINICAL_KINDS[include.source]
        if kind not in kinds:
            kinds.append(kind)
    found: list[tuple[ClinicalKind, Any]] = []
    warnings: list[str] = []
    plain = Query(resource_type="", criteria={})  # every entry, in the kind's own order
    for patient in patients:
        _patient_row, access = _patient(patient.pk)
        if not _may_read_record(actor, access, Category.CLINICAL):
            continue
        returned: dict[str, int] = {}
        for kind in kinds:
            plain.resource_type = kind.resource_type
            rows, _hidden = clinical_rows(actor, access, kind, plain)
            page = list(rows[: INCLUDE_LIMIT + 1])
            if len(page) > INCLUDE_LIMIT:
                page = page[:INCLUDE_LIMIT]
                warnings.append(
                    _("Only the first %(limit)s %(type)s of patient %(id)s are included.")
                    % {"limit": INCLUDE_LIMIT, "type": kind.resource_type, "id": patient.pk}
                )
            shown = visible(actor, access, kind, page)
            returned[kind.resource_type] = len(shown)
            found += [(kind, row) for row in shown]
        _record_read(
            actor,
            patient,
            Category.CLINICAL,
            target=f"patient:{patient.pk}",
            details={"resource": "revinclude", "returned": returned},
        )
    return found, warnings


# --- history ----------------------------------------------------------------------------


def row_versions(kind: ClinicalKind, row: Any) -> list[EntryVersion]:
    """The versions of a served row, newest first (a prescription's line: those of its
    prescription)."""
    return line_versions(row) if kind.via else entry_versions(row)


def versions_visible(
    actor: Actor, kind: ClinicalKind, row_id: int
) -> tuple[Any, list[EntryVersion], records_access.PatientAccess]:
    """The entry (its current row, read through the policy: 403 or 404 as a read) and
    its versions the actor may see: an older version is judged as an entry of its own,
    since its sensitivity may have been another."""
    row = clinical_read(actor=actor, kind=kind, row_id=row_id)
    access = records_access.access_for(kind.entry_of(row).patient)
    versions = [
        version
        for version in row_versions(kind, row)
        if version.current
        or records_access.may_see_entry(actor, access, kind.entry_of(version.entry))
    ]
    return row, versions, access


def version_read(*, actor: Actor, kind: ClinicalKind, row_id: int, version: int) -> EntryVersion:
    row = clinical_read(actor=actor, kind=kind, row_id=row_id)
    found = version_of(row_versions(kind, row), version)
    if found is None:
        raise Http404(_("This entry has no such version."))
    if not found.current:
        access = records_access.access_for(kind.entry_of(row).patient)
        records_access.require_entry(actor, Action.READ, access, kind.entry_of(found.entry))
    return found


def patient_history(*, actor: Actor, patient_id: int) -> list[EntryVersion]:
    """The versions of a patient's identity: one read of the identity, decided and
    audited as a read of the patient (every version is the same patient's identity)."""
    patient = selectors.patient_get(actor=actor, patient_id=patient_id)
    return patient_versions(patient)


@dataclass
class HistoryPage:
    """A page of a type's history: each version with the row as it was, newest first."""

    versions: list[tuple[Write, Any]]
    more: bool
    warnings: list[str]


def _since_of(query: Query) -> datetime | None:
    """``_since``: an instant (a date alone: from its start, in Carnet's time zone)."""
    values = query.values("_since")
    if len(values) > 1:
        raise InvalidSearch(_("Give '%(name)s' only once.") % {"name": "_since"})
    if not values:
        return None
    found = parse_date(values[0])
    if found.prefix != "eq" or values[0].strip()[:2].isalpha():
        raise InvalidSearch(_("_since is an instant, without a prefix."))
    start = found.start
    if isinstance(start, datetime):
        return start
    return timezone.make_aware(datetime.combine(start, datetime.min.time()))


class _Readers:
    """The decisions of one type's history, patient by patient and row by row, each
    made once per request. Nothing is audited here: the caller records one read per
    patient with what it returned."""

    def __init__(self, actor: Actor, kind: ClinicalKind | None) -> None:
        self.actor, self.kind = actor, kind
        self.category = Category.IDENTITY if kind is None else Category.CLINICAL
        self.patients: dict[int, records_access.PatientAccess | None] = {}
        self.rows: dict[int, list[EntryVersion]] = {}
        self.lines: dict[int, list[Any]] = {}

    def decide(self, writes: list[Write]) -> None:
        """Decide on the patients of these versions not yet decided (one round trip),
        and read the entries of those the reader may read (a few queries)."""
        new = list(dict.fromkeys(w.patient_id for w in writes if w.patient_id not in self.patients))
        found = patients_with_access(new)
        for patient_id in new:
            access = found[patient_id][1] if patient_id in found else None
            if access is not None and not records_access.may_read(
                self.actor, access, self.category
            ):
                access = None
            self.patients[patient_id] = access
        if self.kind is None:
            return
        wanted = list(
            dict.fromkeys(
                w.row_id
                for w in writes
                if self.patients[w.patient_id] is not None and w.row_id not in self.rows
            )
        )
        if not wanted:
            return
        source = self.kind.policy_source
        entries = list(entry_rows(source).filter(pk__in=wanted).select_related("author"))
        self.rows.update({row_id: [] for row_id in wanted})
        self.rows.update(versions_of_entries(entries))
        if self.kind.via:
            for row_id in wanted:
                self.lines[row_id] = []
            lines = (
                entry_rows(self.kind.source)
                .filter(**{f"{self.kind.via}__in": wanted})
                .order_by("position", "pk")
            )
            for line in lines:
                self.lines[getattr(line, f"{self.kind.via}_id")].append(line)

    def access(self, patient_id: int) -> records_access.PatientAccess | None:
        if patient_id not in self.patients:
            self.decide([Write(timezone.now(), 0, 0, patient_id)])
        return self.patients[patient_id]

    def versions(self, write: Write) -> list[Any]:
        """The resources' rows of this version the actor may see (none, one, or a
        prescription's lines)."""
        access = self.access(write.patient_id)
        if access is None:
            return []
        if self.kind is None:
            if write.row_id not in self.rows:
                self.rows[write.row_id] = patient_versions(access.patient)
            found = version_of(self.rows[write.row_id], write.version)
            return [found.entry] if found is not None else []
        source = self.kind.policy_source
        if write.row_id not in self.rows:
            entry = entry_rows(source).filter(pk=write.row_id).select_related("author").first()
            self.rows[write.row_id] = entry_versions(entry) if entry is not None else []
        found = version_of(self.rows[write.row_id], write.version)
        if found is None or not records_access.may_see_entry(self.actor, access, found.entry):
            return []
        if not self.kind.via:
            return [found.entry]
        if write.row_id not in self.lines:
            self.lines[write.row_id] = list(
                entry_rows(self.kind.source)
                .filter(**{self.kind.via: write.row_id})
                .order_by("position", "pk")
            )
        return [line_at(line, found.entry) for line in self.lines[write.row_id]]


def type_history(*, actor: Actor, resource_type: str, query: Query) -> HistoryPage:
    """Every version of the type's resources the actor may read, newest first (the
    practice's only: row-level security), from ``_since``, paged by ``_count`` and
    ``_offset``. One read recorded per patient whose data is returned."""
    since = _since_of(query)
    kind = CLINICAL_KINDS.get(resource_type)
    readers = _Readers(actor, kind)
    stream = writes("patient" if kind is None else kind.policy_source, since)
    wanted = query.offset + query.count + 1
    found: list[tuple[Write, Any]] = []
    warnings: list[str] = []
    scanned = 0
    while len(found) < wanted:
        if scanned >= HISTORY_SCAN_LIMIT:
            warnings.append(
                _("Only the latest %(limit)s versions were looked at: narrow with _since.")
                % {"limit": HISTORY_SCAN_LIMIT}
            )
            break
        chunk = [as_write(row) for row in stream[scanned : scanned + HISTORY_CHUNK]]
        if not chunk:
            break
        scanned += len(chunk)
        readers.decide(chunk)
        for write in chunk:
            found += [(write, row) for row in readers.versions(write)]
    page = found[query.offset : query.offset + query.count]
    returned: dict[int, int] = {}
    for write, _row in page:
        returned[write.patient_id] = returned.get(write.patient_id, 0) + 1
    for patient_id, count in returned.items():
        access = readers.patients[patient_id]
        assert access is not None  # only readable patients' versions are in the page
        _record_read(
            actor,
            access.patient,
            readers.category,
            target=f"patient:{patient_id}",
            details={"resource": f"{resource_type}/_history", "returned": count},
        )
    more = query.count > 0 and len(found) > query.offset + query.count
    return HistoryPage(page, more, warnings)


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


def etag_of(resource: dict[str, Any]) -> str:
    version = resource.get("meta", {}).get("versionId")
    return f'W/"{version}"' if version else ""


def not_modified(request: Request, etag: str) -> bool:
    """``If-None-Match`` names the version the client has (or ``*``)."""
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    if not etag or not header:
        return False
    wanted = {tag.strip() for tag in header.split(",")}
    return "*" in wanted or etag in wanted or etag.removeprefix("W/") in wanted


def resource_response(request: Request, resource: dict[str, Any]) -> Response:
    """A read's answer: the resource with its ETag and Last-Modified, or 304 when the
    client already has this version."""
    etag = etag_of(resource)
    response = Response(None, status=304) if not_modified(request, etag) else Response(resource)
    if etag:
        response["ETag"] = etag
    updated = resource.get("meta", {}).get("lastUpdated")
    if updated:
        response["Last-Modified"] = http_date(datetime.fromisoformat(updated).timestamp())
    return response


class FhirPracticeApi(PracticeAPIMixin, FhirView):
    resource_type: ClassVar[str] = ""

    def render_row(self, row: Any, resource_type: str = "") -> dict[str, Any]:
        resource_type = resource_type or self.resource_type
        if resource_type == "Patient":
            return with_meta(fhir_render.patient(row), row.version, row.updated_at)
        if resource_type == "Consent":
            updated = row.revoked_at or row.recorded_at
            return with_meta(fhir_render.consent(row), None, updated)
        if resource_type == "AuditEvent":
            return audit_resources([row])[0]
        kind = CLINICAL_KINDS[resource_type]
        entry = kind.entry_of(row)
        if resource_type == "MedicationRequest":
            resource = fhir_render.medication_request(row, today=timezone.localdate())
        elif resource_type == "DocumentReference":
            page = reverse("records:document", args=[self.practice.slug, row.patient_id, row.pk])
            resource = fhir_render.document_reference(
                row, url=self.request.build_absolute_uri(page)
            )
        else:
            resource = CLINICAL_RENDERERS[resource_type](row)
        return with_meta(resource, entry.version, entry.updated_at)


CLINICAL_RENDERERS = {
    "Encounter": fhir_render.encounter,
    "Condition": fhir_render.condition,
    "AllergyIntolerance": fhir_render.allergy_intolerance,
    "Immunization": fhir_render.immunization,
    "Observation": fhir_render.observation,
}


def row_id_of(resource_id: str) -> int:
    if not ROW_ID.fullmatch(resource_id):
        raise Http404(_("No such resource."))
    return int(resource_id)


class ReadApi(FhirPracticeApi):
    """GET /fhir/r4/<type>/<id>."""

    def reads_ahead(self, resource_id: str, **_: Any) -> tuple[Hashable, Sequence[Bound]] | None:
        """A patient and the policy's facts go in the token's round trip."""
        if self.resource_type != "Patient" or not ROW_ID.fullmatch(resource_id):
            return None
        return selectors.patient_reads_ahead(int(resource_id))

    def get(self, request: Request, resource_id: str) -> Response:
        row_id = row_id_of(resource_id)
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
        return resource_response(request, self.render_row(row))


class SearchApi(FhirPracticeApi):
    """GET /fhir/r4/<type>?...: a searchset Bundle."""

    def reads_ahead(self, **_: Any) -> tuple[Hashable, Sequence[Bound]] | None:
        """The patient of a clinical search and the policy's facts go in the token's
        round trip, when the query names one patient one way."""
        kind = CLINICAL_KINDS.get(self.resource_type)
        if kind is None:
            return None
        params = self.request.query_params
        names = ("patient", "subject") if "subject" in kind.params else ("patient",)
        values = [value.strip() for name in names for value in params.getlist(name)]
        match = PATIENT_REFERENCE.fullmatch(values[0]) if len(values) == 1 else None
        if match is None:
            return None
        return selectors.patient_reads_ahead(int(match.group(1)))

    def get(self, request: Request) -> Response:
        resource_type = self.resource_type
        query = read_query(
            request.query_params,
            request.META.get("HTTP_PREFER", ""),
            resource_type,
            SEARCH_PARAMS[resource_type],
            sorts=set(SORTS[resource_type]),
            includes=INCLUDES.get(resource_type, set()),
            revincludes=REVINCLUDES.get(resource_type, set()),
        )
        if resource_type == "Patient":
            found = patient_search(actor=self.actor, query=query)
        elif resource_type == "Consent":
            found = consent_search(actor=self.actor, query=query)
        elif resource_type == "AuditEvent":
            found = audit_search(actor=self.actor, query=query)
        else:
            kind = CLINICAL_KINDS[resource_type]
            found = clinical_search(actor=self.actor, kind=kind, query=query)
        if resource_type == "AuditEvent":
            resources = audit_resources(found.rows)
        else:
            resources = [self.render_row(row) for row in found.rows]
        included, warnings = self.included(query, found.rows)
        bundle = searchset(
            request, query, resources, found.total, found.next_cursor, included, warnings
        )
        return Response(bundle)

    def included(self, query: Query, rows: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
        """The resources ``_include`` and ``_revinclude`` ask for, each through the
        policy (never with ``_summary=count``)."""
        if query.count_only or not (query.include or query.revinclude):
            return [], []
        resources: list[dict[str, Any]] = []
        warnings: list[str] = []
        if query.include and rows:
            kind = CLINICAL_KINDS[self.resource_type]
            patient_ids = {kind.entry_of(row).patient_id for row in rows}
            for patient_id in sorted(patient_ids):
                patient = included_patient(
                    self.actor, patient_id, reason=", ".join(map(str, query.include))
                )
                if patient is not None:
                    resources.append(self.render_row(patient, "Patient"))
        if query.revinclude and rows:
            found, warnings = revincluded(self.actor, rows, query.revinclude, query)
            resources += [self.render_row(row, kind.resource_type) for kind, row in found]
        return resources, warnings


def history_entry(
    base: str, resource: dict[str, Any], version: int, written_at: datetime
) -> dict[str, Any]:
    """One version in a history Bundle: how it was written (the first by a create)."""
    url = f"{resource['resourceType']}/{resource['id']}"
    return {
        "fullUrl": f"{base}{url}",
        "resource": resource,
        "request": {"method": "POST" if version == 1 else "PUT", "url": url},
        "response": {
            "status": "201" if version == 1 else "200",
            "etag": etag_of(resource),
            "lastModified": fhir_render.instant(written_at),
        },
    }


def ignored_entry(request: Request, messages: list[str]) -> dict[str, Any]:
    """What was left aside, as the last entry of a history Bundle."""
    return {
        "resource": warnings_outcome(messages),
        "request": {"method": "GET", "url": request.get_full_path()[:500]},
        "response": {"status": "200"},
    }


class HistoryApi(FhirPracticeApi):
    """GET /fhir/r4/<type>/<id>/_history: every version of an entry (or of a patient's
    identity) the reader may see, newest first, as a history Bundle."""

    def get(self, request: Request, resource_id: str) -> Response:
        query = read_query(
            request.query_params,
            request.META.get("HTTP_PREFER", ""),
            self.resource_type,
            {},
            sorts=set(),
            includes=set(),
            revincludes=set(),
        )
        if self.resource_type == "Patient":
            versions = patient_history(actor=self.actor, patient_id=row_id_of(resource_id))
        else:
            kind = CLINICAL_KINDS[self.resource_type]
            _row, versions, _access = versions_visible(self.actor, kind, row_id_of(resource_id))
        base = base_url(request)
        entries = [
            history_entry(base, self.render_row(v.entry), v.version, v.written_at) for v in versions
        ]
        if query.ignored:
            entries.append(ignored_entry(request, query.ignored))
        bundle = {
            "resourceType": "Bundle",
            "type": "history",
            "total": len(versions),
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": entries,
        }
        return Response(bundle)


class TypeHistoryApi(FhirPracticeApi):
    """GET /fhir/r4/<type>/_history: every version of the type's resources the reader
    may see, in the practice, newest first (``_since``, ``_count``, ``_offset``)."""

    def get(self, request: Request) -> Response:
        query = read_query(
            request.query_params,
            request.META.get("HTTP_PREFER", ""),
            self.resource_type,
            HISTORY_PARAMS,
            sorts=set(),
            includes=set(),
            revincludes=set(),
        )
        page = type_history(actor=self.actor, resource_type=self.resource_type, query=query)
        base = base_url(request)
        entries = [
            history_entry(base, self.render_row(row), write.version, write.written_at)
            for write, row in page.versions
        ]
        messages = [*query.ignored, *page.warnings]
        if messages:
            entries.append(ignored_entry(request, messages))
        links = [page_link(request, "self", query.offset, query.count)]
        if page.more:
            links.append(page_link(request, "next", query.offset + query.count, query.count))
        if query.offset > 0:
            links.append(
                page_link(request, "previous", max(query.offset - query.count, 0), query.count)
            )
        bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history", "link": links}
        if entries:  # FHIR JSON has no empty arrays
            bundle["entry"] = entries
        return Response(bundle)


class VersionReadApi(FhirPracticeApi):
    """GET /fhir/r4/<type>/<id>/_history/<vid>: one version of an entry or of a
    patient's identity (vread)."""

    def get(self, request: Request, resource_id: str, version_id: str) -> Response:
        if not ROW_ID.fullmatch(version_id) or len(version_id) > 9:
            raise Http404(_("This entry has no such version."))
        if self.resource_type == "Patient":
            versions = patient_history(actor=self.actor, patient_id=row_id_of(resource_id))
            found = version_of(versions, int(version_id))
            if found is None:
                raise Http404(_("This patient has no such version."))
            return resource_response(request, self.render_row(found.entry))
        kind = CLINICAL_KINDS[self.resource_type]
        version = version_read(
            actor=self.actor, kind=kind, row_id=row_id_of(resource_id), version=int(version_id)
        )
        return resource_response(request, self.render_row(version.entry))


EVERYTHING_PARAMS: dict[str, SearchParam] = {
    "start": date_param("Clinical entries on or after this date"),
    "end": date_param("Clinical entries on or before this date"),
    "_since": date_param("Resources changed since this instant"),
    "_type": token_param("Resource types to include."),
}


class EverythingApi(FhirPracticeApi):
    """GET /fhir/r4/Patient/<id>/$everything: the patient, and every resource of their
    record the reader may see (clinical entries, consents), as one searchset."""

    def get(self, request: Request, resource_id: str) -> Response:
        query = read_query(
            request.query_params,
            request.META.get("HTTP_PREFER", ""),
            "Patient",
            EVERYTHING_PARAMS,
            sorts=set(),
            includes=set(),
            revincludes=set(),
        )
        for name in EVERYTHING_PARAMS:
            if name != "_type":
                for raw in query.values(name):
                    parse_date(raw)  # refused before anything is read
        # One access, one event: recorded at the end with what was returned.
        patient = selectors.patient_get(
            actor=self.actor, patient_id=row_id_of(resource_id), audit_success=False
        )
        _patient_row, access = _patient(patient.pk)
        read = Category.IDENTITY
        types = {
            part.strip() for raw in query.values("_type") for part in raw.split(",") if part.strip()
        }
        for unknown in sorted(types - set(RESOURCE_TYPES)):
            ignore_or_refuse(query, _("_type=%(type)s is not served: ignored.") % {"type": unknown})
        wanted = [name for name in RESOURCE_TYPES if not types or name in types]
        resources: list[dict[str, Any]] = []
        warnings: list[str] = []
        if "Patient" in wanted:
            resources.append(self.render_row(patient, "Patient"))
        kinds = [CLINICAL_KINDS[name] for name in wanted if name in CLINICAL_KINDS]
        returned: dict[str, int] = {}
        if kinds and _may_read_record(self.actor, access, Category.CLINICAL):
            for kind in kinds:
                window = Query(kind.resource_type, {})
                for name, prefix in (("start", "ge"), ("end", "le")):
                    for raw in query.values(name):
                        window.criteria.setdefault("date", []).append(("", prefix + raw))
                for raw in query.values("_since"):
                    window.criteria.setdefault("_lastUpdated", []).append(("", "ge" + raw))
                rows, _hidden = clinical_rows(self.actor, access, kind, window)
                page = list(rows[: EVERYTHING_LIMIT + 1])
                if len(page) > EVERYTHING_LIMIT:
                    page = page[:EVERYTHING_LIMIT]
                    warnings.append(
                        _("Only the first %(limit)s %(type)s are included.")
                        % {"limit": EVERYTHING_LIMIT, "type": kind.resource_type}
                    )
                shown = visible(self.actor, access, kind, page)
                returned[kind.resource_type] = len(shown)
                resources += [self.render_row(row, kind.resource_type) for row in shown]
            read = Category.CLINICAL
        if "Consent" in wanted and _may_read_record(
            self.actor, access, Category.ADMINISTRATIVE, Purpose.ADMINISTRATION
        ):
            window = Query("Consent", {})
            for raw in query.values("_since"):
                window.criteria.setdefault("_lastUpdated", []).append(("", "ge" + raw))
            consents = list(consent_rows(patient.pk, window)[:EVERYTHING_LIMIT])
            resources += [self.render_row(consent, "Consent") for consent in consents]
            returned["Consent"] = len(consents)
            if read == Category.IDENTITY:
                read = Category.ADMINISTRATIVE
        _record_read(
            self.actor,
            patient,
            read,
            target=f"patient:{patient.pk}",
            details={"resource": "$everything", "returned": returned},
        )
        base = base_url(request)
        entries = [bundle_entry(base, resource, "match") for resource in resources]
        messages = [*query.ignored, *warnings]
        if messages:
            entries.append({"resource": warnings_outcome(messages), "search": {"mode": "outcome"}})
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "link": [{"relation": "self", "url": request.build_absolute_uri()}],
            "entry": entries,
        }
        return Response(bundle)
