"""Reads sent ahead, in the round trip that authenticates an API call.

An API call's first round trip checks its token and enters the token's practice
(``core.accounts.services.api_token_enter``). A view whose first read is known from its
address alone (the patient of ``/api/v1/patients/42/chart/``) names that read
(``ReadsAhead.reads_ahead``): its statements go in the same message, after the token's,
so they run under the tenant the token has just set, with row-level security as any
other read. Nothing is decided on them there: the selector that would have read them
takes them instead (``take``), and the access policy then decides as always.

The rows are kept only if the token was accepted and its practice entered, only for the
request's transaction (``request_scope``, opened by the transaction middleware), and
only once: a second read of the same facts goes to the database. Only reads that a
request makes before it writes may be sent ahead.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from core.prepared import Bound

Results = list[list[Any]]

_kept: ContextVar[dict[Hashable, Results] | None] = ContextVar("carnet_read_ahead", default=None)


@runtime_checkable
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
