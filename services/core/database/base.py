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
kept)."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
