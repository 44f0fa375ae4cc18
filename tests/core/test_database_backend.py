"""Carnet's database backend (core/database/base.py): the connection health check between
requests sends nothing to a healthy server and still replaces a connection the server
has ended; timestamps are read by psycopg's fastest loader and come out as Django's."""

from __future__ import annotations

import select
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import pq
from psycopg.types.datetime import TimestamptzLoader

from tests.conftest import superuser_conninfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def idle_connection() -> Iterator[BaseDatabaseWrapper]:
    """A second connection of Carnet's, idle between two requests (autocommit)."""
    other = connections.create_connection("default")
    other.connect()
    try:
        yield other
    finally:
        other.close()


def _messages_sent(wrapper: BaseDatabaseWrapper, action: object) -> str:
    """What libpq sent to the server while ``action`` ran (its protocol trace)."""
    with tempfile.TemporaryFile("w+") as trace:
        pgconn = wrapper.connection.pgconn
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            action()  # type: ignore[operator]
        finally:
            pgconn.untrace()
        trace.seek(0)
        # (one line per message; "F" for the frontend's, the client's)
        return "\n".join(line for line in trace.read().splitlines() if line.startswith("F\t"))


def _pid(wrapper: BaseDatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_a_healthy_idle_connection_is_checked_without_a_round_trip(
    idle_connection: BaseDatabaseWrapper,
) -> None:
    assert idle_connection.vendor == "postgresql"
    results: list[bool] = []
    sent = _messages_sent(idle_connection, lambda: results.append(idle_connection.is_usable()))
    assert results == [True]
    assert sent == ""  # no "Query" message: nothing went to the server
    # The trace does see a round trip: a statement shows as a query sent.
    assert "Query" in _messages_sent(idle_connection, lambda: _pid(idle_connection))


def test_a_connection_the_server_ended_is_found_unusable_and_replaced(
    idle_connection: BaseDatabaseWrapper,
) -> None:
    pid = _pid(idle_connection)
    # As a restart or an administrator would (the tests' role is a superuser: so is the
    # one that ends its session)
    with psycopg.connect(superuser_conninfo(connection.settings_dict["NAME"])) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while idle_connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's goodbye is on its way
    assert not idle_connection.is_usable()
    # What Django does with that answer before a request: close, then connect anew.
    idle_connection.health_check_enabled = True
    idle_connection.health_check_done = False
    idle_connection.close_if_health_check_failed()
    assert _pid(idle_connection) != pid


def test_a_harmless_message_waiting_is_read_and_the_connection_kept(
    idle_connection: BaseDatabaseWrapper,
) -> None:
    pid = _pid(idle_connection)
    with idle_connection.cursor() as cursor:
        cursor.execute("LISTEN carnet_health_test")
    with psycopg.connect(superuser_conninfo(connection.settings_dict["NAME"])) as other:
        other.execute("NOTIFY carnet_health_test")  # delivered at its commit
    socket = idle_connection.connection.pgconn.socket
    deadline = time.monotonic() + 10
    while not select.select([socket], [], [], 0)[0] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert select.select([socket], [], [], 0)[0], "the notification never came"
    sent: list[bool] = []
    assert "Query" in _messages_sent(
        idle_connection, lambda: sent.append(idle_connection.is_usable())
    )  # something waited: the server was asked
    assert sent == [True]
    assert _pid(idle_connection) == pid


def test_timestamps_are_read_as_django_reads_them(idle_connection: BaseDatabaseWrapper) -> None:
    """UTC times with Django's own time zone object, whatever the session was given, by
    the C loader when psycopg has it (the Python one is what the backend replaced)."""
    loader = idle_connection.connection.adapters.get_loader(
        psycopg.adapters.types["timestamptz"].oid, pq.Format.TEXT
    )
    # not the Python implementation (nor Django's loader, built on it)
    assert not issubclass(loader, TimestamptzLoader)
    assert psycopg.pq.__impl__ != "binary" or loader.__module__.startswith("psycopg_binary")
    sql = (
        "SELECT '2026-12-06 18:30:00.123456+01'::timestamptz, "
        "'0001-01-01 00:00:00+00'::timestamptz, '9999-12-31 23:59:59.999999+00'::timestamptz"
    )
    with idle_connection.cursor() as cursor:
        cursor.execute(sql)
        first, oldest, last = cursor.fetchone()
    assert first == datetime(2026, 12, 6, 17, 30, 0, 123456, tzinfo=UTC)
    assert first.tzinfo is UTC and oldest.tzinfo is UTC and last.tzinfo is UTC
    assert (oldest.year, last.year) == (1, 9999)
    # Read as a server-side cursor reads (a queryset's iterator()), inside a transaction.
    idle_connection.set_autocommit(False)
    try:
        with idle_connection.chunked_cursor() as cursor:
            cursor.execute(sql)
            assert cursor.fetchone()[0] == first
    finally:
        idle_connection.rollback()
        idle_connection.set_autocommit(True)


def test_a_model_row_s_time_round_trips(idle_connection: BaseDatabaseWrapper) -> None:
    """What the ORM writes it reads back equal, and aware in UTC."""
    from django.utils import timezone

    now = timezone.now()
    with idle_connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [now])
        (read,) = cursor.fetchone()
    assert read == now and read.tzinfo is UTC
