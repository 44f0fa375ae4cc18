"""Which practice (tenant) the current database transaction works for.

Row-level security in PostgreSQL reads ``carnet.practice_id`` (and ``carnet.person_id``)
set with ``set_config(..., is_local => true)``: the value lives only until the end of
the transaction, so a pooled connection can never carry one practice's context into the
next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from core.prepared import Bound, PreparedSQL, fetch_together


@dataclass(frozen=True)
class Tenant:
    practice_id: int | None
    person_id: int | None = None
    # The practice's settings the access policy reads, when the caller read the practice
    # already (entering a practice does): "" when not known yet.
    care_team_mode: str = ""


_current: ContextVar[Tenant | None] = ContextVar("carnet_tenant", default=None)
# The person of a request's transaction, known to Python but not sent to the database yet
# (``activate_person``): the transaction's first statement sends it first, unless that
# statement sets the tenant itself, as entering a practice does in its own message.
_unsent: ContextVar[bool] = ContextVar("carnet_tenant_unsent", default=False)


def current() -> Tenant | None:
    return _current.get()


def current_practice_id() -> int | None:
    tenant = _current.get()
    return tenant.practice_id if tenant else None


_SET_TENANT = PreparedSQL(
    "SELECT set_config('carnet.practice_id', %(practice)s, true),"
    " set_config('carnet.person_id', %(person)s, true)"
)


def activate_person(person_id: int) -> None:
    """Who acts, for the rest of the current transaction, with no practice yet: sent with
    the transaction's first statement (``send_unsent``), so that a page entering its
    practice, whose message sets the person too, spends no round trip on it."""
    if not connection.in_atomic_block:
        raise RuntimeError("The practice context can only be set inside a transaction.")
    _current.set(Tenant(None, person_id))
    _unsent.set(True)


def set_by_next_statement() -> None:
    """The caller's next statement sets the tenant itself (practice and person): the
    person not sent yet need not be sent before it."""
    _unsent.set(False)


def send_unsent(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """An execute wrapper (``connection.execute_wrapper``, installed by the request's
    transaction): before the first statement, the person ``activate_person`` named. Any
    statement of the transaction, the ORM's or hand-written, runs after it."""
    if _unsent.get():
        _unsent.set(False)
        tenant = _current.get()
        values = {"practice": "", "person": str(tenant.person_id if tenant else "")}
        execute(_SET_TENANT.sql, values, False, context)
        db = context["connection"]
        if db.queries_logged:  # counted as the round trip it is
            shown = _SET_TENANT.sql % {name: f"'{value}'" for name, value in values.items()}
            db.queries_log.append({"sql": shown, "time": "0.000"})
    return execute(sql, params, many, context)


def activate(practice_id: int | None, person_id: int | None = None) -> None:
    """Set the tenant for the rest of the current transaction (must be inside one)."""
    activate_then(practice_id, person_id)


def activate_then(
    practice_id: int | None, person_id: int | None, *then: Bound, care_team_mode: str = ""
) -> list[list]:
    """Set the tenant, then run statements under it, in one round trip (PostgreSQL runs
    the statements of one message in order); their results.

    ``care_team_mode`` is the practice's setting when the caller has the practice row at
    hand (entering a practice): the policy's facts then need no query to know it."""
    if not connection.in_atomic_block:
        raise RuntimeError("The practice context can only be set inside a transaction.")
    _unsent.set(False)  # this message sets the person
    results = fetch_together(
        _SET_TENANT.bind(practice=str(practice_id or ""), person=str(person_id or "")), *then
    )
    _current.set(Tenant(practice_id, person_id, care_team_mode))
    return results[1:]


def adopt(practice_id: int, person_id: int, care_team_mode: str = "") -> None:
    """Record on the Python side a tenant that a statement of the caller's has just set
    in the database (in the same transaction, with the same settings as ``activate``):
    the API token's round trip sets it together with the token's check."""
    if not connection.in_atomic_block:
        raise RuntimeError("The practice context can only be set inside a transaction.")
    _current.set(Tenant(practice_id, person_id, care_team_mode))


def forget() -> None:
    """A new request starts with no tenant on the Python side. The database side ends
    with each transaction, but this value lives in the worker's context from one request
    to the next: an anonymous request (the public application page, an API call before
    its token is read) must not record its audit events on the previous request's
    practice chain."""
    _current.set(None)
    _unsent.set(False)


def remember_care_team_mode(practice_id: int, mode: str) -> None:
    """Keep the practice's care-team setting with the current tenant (read or changed
    during the transaction), so that the next facts of the request use it."""
    tenant = _current.get()
    if tenant is not None and tenant.practice_id == practice_id:
        _current.set(Tenant(tenant.practice_id, tenant.person_id, mode))


@contextmanager
def practice_context(practice_id: int | None, person_id: int | None = None) -> Iterator[None]:
    """Run a block in a transaction scoped to one practice (commands, jobs, tests)."""
    previous = _current.get()
    with transaction.atomic():
        activate(practice_id, person_id)
        try:
            yield
        finally:
            if previous is not None:
                activate_then(
                    previous.practice_id,
                    previous.person_id,
                    care_team_mode=previous.care_team_mode,
                )
            else:
                _current.set(None)
