"""The first page of a patient's clinical resources, in one round trip.

Most clinical searches are the plainest: ``Observation?patient=42``, no other criterion,
the type's order, the first page. The general search (``api.clinical_search``) answers
them in three round trips of querysets built and compiled anew: the entries the policy
may hide, the count, the page. Here the statements are compiled once per connection
(``core.prepared``) and the entries that may be hidden, the page and the count go in one
message.

The policy still decides as in the general search, on the same facts and after the
record-level decision: an entry can be hidden from a reader of the record only if it is
sensitive or the patient excluded someone from it. So the page is the answer only when
the patient excluded no one from an entry of this type and the policy hides none of the
sensitive ones from this reader; otherwise (``None``) the general search answers,
leaving those out. The count goes in the same message, so that the round trips do not
depend on the size of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import Count

from core.prepared import Prepared, fetch_together
from records import access as records_access
from records.selectors import EntryStatus, entry_rows, entry_type
from sharing.fhir import paging as fhir_paging
from sharing.fhir.search import DEFAULT_COUNT, Query

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from core.access.policy import Actor

# The criteria of a plain first page: the patient, named one way or the other.
PATIENT_CRITERIA = {"patient", "subject"}


class ClinicalKind(Protocol):
    """What is read of a clinical type (``sharing.fhir.api.ClinicalKind``)."""

    @property
    def resource_type(self) -> str: ...

    @property
    def order(self) -> tuple[Any, ...]: ...

    @property
    def policy_source(self) -> str: ...

    def prefix(self) -> str: ...

    def rows(self, patient: Any) -> QuerySet[Any]: ...


@dataclass
class FirstPage:
    rows: list[Any]
    total: int
    next_cursor: str


@dataclass(frozen=True)
class _Statements:
    sensitive: Prepared  # the patient's active entries of the type with a label
    page: Prepared  # the first page of the patient's rows, in the type's order
    count: Prepared  # how many rows the patient has (none: no row)


_statements: dict[str, _Statements] = {}


def _statements_for(kind: ClinicalKind) -> _Statements:
    found = _statements.get(kind.resource_type)
    if found is None:
        found = _statements[kind.resource_type] = _Statements(
            sensitive=Prepared(
                lambda patient: (
                    entry_rows(kind.policy_source)
                    .filter(patient=patient, status=EntryStatus.ACTIVE)
                    .exclude(sensitivity="")
                )
            ),
            page=Prepared(lambda patient: kind.rows(patient)[:DEFAULT_COUNT]),
            count=Prepared(
                lambda patient: (
                    kind.rows(patient)
                    .order_by()
                    .values(f"{kind.prefix()}patient")
                    .annotate(n=Count("pk"))
                    .values_list("n", flat=True)
                )
            ),
        )
    return found


def is_plain_first_page(query: Query) -> bool:
    """Only the patient, the type's order, the first page of the usual size."""
    return (
        set(query.criteria) <= PATIENT_CRITERIA
        and not query.sort
        and not query.cursor
        and query.offset == 0
        and query.count == DEFAULT_COUNT
        and not query.count_only
    )


def first_page(
    actor: Actor, access: records_access.PatientAccess, kind: ClinicalKind, query: Query
) -> FirstPage | None:
    """The page, its total and the next page's cursor, as the general search gives them
    when it hides nothing; None when this search is not a plain first page or when the
    general search must leave entries out."""
    if not is_plain_first_page(query):
        return None
    source = entry_type(kind.policy_source)
    if any(kind_name == source for kind_name, _entry in access.entry_exclusions):
        return None
    statements = _statements_for(kind)
    patient = access.patient.pk
    sensitive, rows, count = fetch_together(
        statements.sensitive.bind(patient=patient),
        statements.page.bind(patient=patient),
        statements.count.bind(patient=patient),
    )
    if not all(records_access.may_see_entry(actor, access, entry) for entry in sensitive):
        return None
    total = count[0] if count else 0
    keys = fhir_paging.keys_of(kind.order)
    cursor = fhir_paging.cursor_after(rows[-1], keys, kind.resource_type) if keys and rows else ""
    return FirstPage(rows, total, cursor)
