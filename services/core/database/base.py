"""Django's PostgreSQL backend, with a connection health check without a round trip.

A persistent connection is checked before each request's first statement
(``CONN_HEALTH_CHECKS``): Django sends ``SELECT 1`` and reconnects if it fails, which is
what lets a worker survive a database restart (the fault tests). That is one more round
trip on every request, the hot reads included. An idle connection has nothing to read
unless the server wrote to it on its own: when PostgreSQL ends a session (a restart, a
terminated backend, a failover) it sends the error and closes the socket. So the socket
is polled first, at no cost; only when something is waiting does Django's ``SELECT 1``
run, and it reads what came (a closed session fails it: the connection is replaced; a
harmless message, such as a changed server parameter, is consumed and the connection
kept).

Timestamps are read by psycopg's own loader, written in C, instead of the Python one
Django registers to give them its time zone: Django sets the session's time zone to UTC,
and psycopg's loader then gives exactly what Django's does (``datetime.timezone.utc``),
at a fraction of the cost (a chart reads dozens of them).
"""

from __future__ import annotations

import select
from datetime import UTC
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq
from psycopg.types.datetime import TimestamptzLoader

# The fastest implementation psycopg has of its timestamptz loader (C when installed).
_TIMESTAMPTZ_LOADER = (
    psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, pq.Format.TEXT)
    or TimestamptzLoader
)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection[Any]:
        session = super().get_new_connection(conn_params)
        if self._utc:
            session.adapters.register_loader("timestamptz", _TIMESTAMPTZ_LOADER)
        return session

    @property
    def _utc(self) -> bool:
        """Django keeps the session in UTC (USE_TZ): psycopg's loader gives UTC times."""
        return self.timezone is UTC and self.timezone_name == "UTC"

    def create_cursor(self, name: str | None = None) -> Any:
        if not self._utc:
            return super().create_cursor(name)
        # Django's cursors, without its check of the timestamp loader's time zone (the
        # loader registered above has none to compare: the session's is UTC).
        if name:
            return base.ServerSideCursor(  # type: ignore[call-arg]
                self.connection, name=name, scrollable=False, withhold=self.connection.autocommit
            )
        return self.connection.cursor()

    def is_usable(self) -> bool:
        session = self.connection
        if session is None or session.closed or session.broken:
            return False
        if session.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())  # not between requests: ask the server
        try:
            waiting, _, _ = select.select([session.pgconn.socket], [], [], 0)
        except (OSError, ValueError):  # no socket any more
            return False
        if not waiting:
            return True
        return bool(super().is_usable())
