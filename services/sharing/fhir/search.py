"""Reading a FHIR search request: which parameters, which values, how to handle the rest.

Pure parsing, no database access: the API (``sharing.fhir.api``) turns what is read here
into queries. One table per resource type (``SearchParam``) says what each parameter
is; the CapabilityStatement is generated from the same tables, so what is declared is
what is understood.

Handling (FHIR R4 §3.1.1.5.5, ``Prefer: handling``): by default (lenient) a parameter
the server does not know, an ``_include`` or a ``_sort`` it cannot follow is ignored and
reported in an OperationOutcome of the Bundle (``search.mode = outcome``); with
``Prefer: handling=strict`` it is refused (400). A known parameter with a modifier the
server does not support, or a value it cannot read, is always refused (400): ignoring
it would widen the search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, status


class InvalidSearch(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_search"


# --- limits on what a request may hold --------------------------------------------------

MAX_VALUE_LENGTH = 500
MAX_VALUES = 60
DEFAULT_COUNT = 50
MAX_COUNT = 200
# Characters no search value holds: control characters (NUL first: PostgreSQL refuses
# it in text) and UTF-16 surrogates (not characters; they cannot be encoded).
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}


# --- the parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class SearchParam:
    """One search parameter of one resource type, as the CapabilityStatement declares
    it. ``modifiers`` are the ones understood (any other is refused)."""

    type: str  # string | token | date | reference
    documentation: str
    modifiers: frozenset[str] = frozenset()


STRING_MODIFIERS = frozenset({"exact", "contains"})


def string_param(documentation: str) -> SearchParam:
    return SearchParam(
        "string",
        documentation + " Case and accents ignored; the start of the name or of one of its"
        " words (:exact as typed, :contains anywhere).",
        STRING_MODIFIERS,
    )


def date_param(what: str) -> SearchParam:
    return SearchParam(
        "date",
        f"{what}; prefixes eq (default), ne, gt, ge, lt, le, sa, eb, ap; YYYY, YYYY-MM, "
        "YYYY-MM-DD or a date and time. Repeat it for a range.",
    )


def token_param(documentation: str) -> SearchParam:
    return SearchParam("token", documentation + " [system]|code; several separated by commas.")


PATIENT_PARAM = SearchParam("reference", "The patient: <id> or Patient/<id> (required).")
SUBJECT_PARAM = SearchParam("reference", "Same as patient: Patient/<id>.")
ID_PARAM = SearchParam("token", "The resource's id; several separated by commas.")
LAST_UPDATED_PARAM = date_param("When the resource last changed (meta.lastUpdated)")
COMMON_PARAMS = {"_id": ID_PARAM, "_lastUpdated": LAST_UPDATED_PARAM}

# Parameters about the result rather than the resources.
RESULT_PARAMETERS = {
    "_count",
    "_offset",
    "_cursor",
    "_format",
    "_pretty",
    "_sort",
    "_summary",
    "_elements",
    "_include",
    "_revinclude",
}
SUMMARY_VALUES = {"true", "false", "count", "data"}


# --- the parsed request -----------------------------------------------------------------


@dataclass(frozen=True)
class Include:
    """``Source:param`` (``:Patient``): the resources a reference points to."""

    source: str
    param: str

    def __str__(self) -> str:
        return f"{self.source}:{self.param}"


@dataclass
class Query:
    """A search request, read: its criteria by parameter (each a list of (modifier,
    value), ANDed), the page, the shape of the result, and what was ignored."""

    resource_type: str
    criteria: dict[str, list[tuple[str, str]]]
    count: int = DEFAULT_COUNT
    offset: int = 0
    cursor: str = ""
    summary: str = ""
    elements: list[str] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (key, descending)
    include: list[Include] = field(default_factory=list)
    revinclude: list[Include] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # messages for the OperationOutcome
    strict: bool = False

    def values(self, name: str) -> list[str]:
        return [value for _modifier, value in self.criteria.get(name, [])]

    @property
    def count_only(self) -> bool:
        return self.summary == "count" or self.count == 0


def is_strict(prefer: str) -> bool:
    """``Prefer: handling=strict`` (RFC 7240; several preferences may be listed)."""
    preferences = {part.strip().lower() for part in re.split(r"[,;]", prefer)}
    return "handling=strict" in preferences


def checked_values(params: Any) -> list[tuple[str, str]]:
    """Every (name, value) of the query string, refused whole if one is unreadable."""
    pairs = [(name, value) for name in params for value in params.getlist(name)]
    if len(pairs) > MAX_VALUES:
        raise InvalidSearch(
            _("Too many search parameters (at most %(max)s).") % {"max": MAX_VALUES}
        )
    for name, value in pairs:
        if FORBIDDEN.search(name) or FORBIDDEN.search(value) or "\ufffd" in name + value:
            raise InvalidSearch(
                _("The parameter '%(name)s' holds a character that is not allowed.")
                % {"name": FORBIDDEN.sub("?", name)[:40]}
            )
        if len(value) > MAX_VALUE_LENGTH or len(name) > 100:
            raise InvalidSearch(
                _("The parameter '%(name)s' is too long (at most %(max)s characters).")
                % {"name": name[:40], "max": MAX_VALUE_LENGTH}
            )
    return pairs


def ignore_or_refuse(query: Query, message: str) -> None:
    """Lenient: note it for the OperationOutcome. Strict: refuse the search."""
    if query.strict:
        raise InvalidSearch(message)
    query.ignored.append(message)


def whole_number(name: str, raw: str) -> int:
    if not WHOLE_NUMBER.fullmatch(raw):
        raise InvalidSearch(_("%(name)s must be a whole number.") % {"name": name})
    return int(raw)


def read_query(
    params: Any,
    prefer: str,
    resource_type: str,
    supported: dict[str, SearchParam],
    *,
    sorts: set[str],
    includes: set[str],
    revincludes: set[str],
) -> Query:
    """Read a search request for ``resource_type`` against its table of parameters."""
    query = Query(resource_type, {}, strict=is_strict(prefer))
    once: dict[str, str] = {}
    for name, value in checked_values(params):
        base, _colon, modifier = name.partition(":")
        if name in RESULT_PARAMETERS:
            if name in ("_include", "_revinclude"):
                _read_include(query, name, value, includes if name == "_include" else revincludes)
                continue
            if name in once:
                raise InvalidSearch(_("Give '%(name)s' only once.") % {"name": name})
            once[name] = value
            continue
        if base not in supported:
            ignore_or_refuse(
                query,
                _("Unknown search parameter '%(name)s' for %(type)s: ignored. Supported: %(list)s.")
                % {
                    "name": name,
                    "type": resource_type,
                    "list": ", ".join(sorted(supported)),
                },
            )
            continue
        if modifier and modifier not in supported[base].modifiers:
            raise InvalidSearch(
                _("The modifier ':%(modifier)s' is not supported on '%(name)s'.")
                % {"modifier": modifier, "name": base}
            )
        query.criteria.setdefault(base, []).append((modifier, value))
    _read_result_parameters(query, once, sorts)
    return query


def _read_include(query: Query, name: str, value: str, allowed: set[str]) -> None:
    parts = value.split(":")
    # Source:param or Source:param:Patient, where Source:param is declared.
    wanted = ":".join(parts[:2])
    if wanted in allowed and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "Patient")):
        target = query.include if name == "_include" else query.revinclude
        include = Include(parts[0], parts[1])
        if include not in target:
            target.append(include)
        return
    ignore_or_refuse(
        query,
        _("%(name)s=%(value)s is not supported here: ignored. Supported: %(list)s.")
        % {"name": name, "value": value, "list": ", ".join(sorted(allowed)) or "-"},
    )


def _read_result_parameters(query: Query, once: dict[str, str], sorts: set[str]) -> None:
    if "_count" in once and once["_count"] != "":
        query.count = min(whole_number("_count", once["_count"]), MAX_COUNT)
    if "_offset" in once and once["_offset"] != "":
        query.offset = whole_number("_offset", once["_offset"])
    query.cursor = once.get("_cursor", "")
    requested_format = once.get("_format")
    if requested_format and requested_format not in JSON_FORMATS:
        raise exceptions.NotAcceptable(_("Only JSON is served."))
    summary = once.get("_summary", "")
    if summary:
        if summary not in SUMMARY_VALUES:
            raise InvalidSearch(
                _("_summary may be true, false, count or data (text is not served).")
            )
        query.summary = summary
    elements = once.get("_elements", "")
    query.elements = [name.strip() for name in elements.split(",") if name.strip()]
    for key in once.get("_sort", "").split(","):
        key = key.strip()
        if not key:
            continue
        descending = key.startswith("-")
        key = key.removeprefix("-")
        if key in sorts:
            query.sort.append((key, descending))
        else:
            ignore_or_refuse(
                query,
                _("Cannot sort by '%(key)s': ignored. Sort keys: %(list)s.")
                % {"key": key, "list": ", ".join(sorted(sorts))},
            )


# --- values -----------------------------------------------------------------------------

# Ids are row ids: at most 18 digits fit PostgreSQL's bigint.
ROW_ID = re.compile(r"[0-9]{1,18}")
PATIENT_REFERENCE = re.compile(r"(?:(?:https?://\S+/)?Patient/)?([0-9]{1,18})")


def ids_of(raw: str) -> list[int]:
    """``_id=12,13``: the ids that can exist here (anything else matches nothing)."""
    return [int(part) for part in raw.split(",") if ROW_ID.fullmatch(part.strip())]


def token_values(raw: str) -> list[tuple[str | None, str]]:
    """``code=a,sys|b,|c``: (system, code) pairs; None when any system is accepted,
    "" when the code must have none."""
    found: list[tuple[str | None, str]] = []
    for part in raw.split(","):
        if "|" in part:
            system, _bar, code = part.rpartition("|")
            found.append((system, code.strip()))
        else:
            found.append((None, part.strip()))
    return [(system, code) for system, code in found if code]


def codes_in(raw: str, system: str) -> list[str]:
    """The codes asked for in our code system (a code of another system matches
    nothing here)."""
    return [code for asked, code in token_values(raw) if asked in (None, system)]


@dataclass(frozen=True)
class DateRange:
    """What a FHIR date parameter value covers: [start, end)."""

    prefix: str
    start: date | datetime
    end: date | datetime


DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
DATE_VALUE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(T.+)?)?)?", re.DOTALL)


def parse_date(raw: str) -> DateRange:
    raw = raw.strip()
    prefix = raw[:2] if raw[:2].isalpha() else ""
    if prefix and prefix not in DATE_PREFIXES:
        raise InvalidSearch(_("Date prefixes: eq, ne, gt, ge, lt, le, sa, eb, ap."))
    value = raw[len(prefix) :]
    prefix = prefix or "eq"
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


def _approximately(covered: DateRange) -> tuple[date | datetime, date | datetime]:
    """``ap``: the range widened by a tenth of its distance from today (FHIR's
    suggestion), at least a day each side."""
    now = timezone.now()
    distance = abs(now - _as_moment(covered.start))
    margin = max(distance / 10, timedelta(days=1))
    try:
        start = _as_moment(covered.start) - margin
        end = _as_moment(covered.end) + margin
    except OverflowError as error:
        raise InvalidSearch(_("A date is between the years 1000 and 9000.")) from error
    return start, end


def date_filter(field_name: str, is_datetime: bool, raw: str) -> Q:
    """``date=ge2026-01-01``: the resource's date (one day or one instant) against the
    range the value covers. For a resource's single date, ``sa`` is ``gt`` and ``eb`` is
    ``lt``."""
    covered = parse_date(raw)
    if covered.prefix == "ap":
        start, end = _approximately(covered)
        covered = DateRange("eq", start, end)
    if is_datetime:
        start_: date | datetime = _as_moment(covered.start)
        end_: date | datetime = _as_moment(covered.end)
    else:
        start_, end_ = _as_day(covered.start, end=False), _as_day(covered.end, end=True)
    prefix = {"sa": "gt", "eb": "lt"}.get(covered.prefix, covered.prefix)
    if prefix == "ge":
        return Q(**{f"{field_name}__gte": start_})
    if prefix == "gt":
        return Q(**{f"{field_name}__gte": end_})
    if prefix == "le":
        return Q(**{f"{field_name}__lt": end_})
    if prefix == "lt":
        return Q(**{f"{field_name}__lt": start_})
    within = Q(**{f"{field_name}__gte": start_, f"{field_name}__lt": end_})
    return ~within if prefix == "ne" else within


def date_filters(query: Query, names: tuple[str, ...], field_name: str, is_datetime: bool) -> Q:
    condition = Q()
    for name in names:
        for raw in query.values(name):
            condition &= date_filter(field_name, is_datetime, raw)
    return condition
