"""Reads sent ahead, in the round trip that lets a request in.

Two round trips let a request into a practice: an API call's token check, which enters
the token's practice (``core.accounts.services.api_token_enter``), and a practice page's
entry by its address (``core.practices.context.enter_practice_at``). A view whose first
read is known from its address alone (the patient of ``/api/v1/patients/42/chart/`` or
of the chart page) names that read: ``ReadsAhead.reads_ahead`` for an API view,
``core.practices.context.reading_ahead`` for a page. Its statements go in the same
message, after those that set the tenant, so they run under it, with row-level security
as any other read. Nothing is decided on them there: the selector that would have read
them takes them instead (``take``), and the access policy then decides as always.

The rows are kept only if the caller was let in (the token accepted and its practice
entered; the person a member of the practice), only for the request's transaction
(``request_scope``, opened by the transaction middleware), and only once: a second read
of the same facts goes to the database. Only reads that a request makes before it writes
may be sent ahead.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from core.prepared import Bound

Results = list[list[Any]]

_kept: ContextVar[dict[Hashable, Results] | None] = ContextVar("carnet_read_ahead", default=None)


class ReadsAhead(Protocol):
    def reads_ahead(self, **url_kwargs: Any) -> tuple[Hashable, Sequence[Bound]] | None:
        """The key and the statements of the view's first read, from its address's
        values; None when the address does not name one."""


@contextmanager
def request_scope() -> Iterator[None]:
    """Rows read ahead live for the block (one request's transaction), not longer."""
    token = _kept.set({})
    try:
        yield
    finally:
        _kept.reset(token)


def keep(key: Hashable, results: Results) -> None:
    """Keep the results of a read sent ahead (outside a request's scope: dropped)."""
    kept = _kept.get()
    if kept is not None:
        kept[key] = results


def take(key: Hashable) -> Results | None:
    """The results read ahead under ``key``, once; None if there are none."""
    kept = _kept.get()
    if not kept:
        return None
    return kept.pop(key, None)
