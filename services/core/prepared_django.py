"""What ``core.prepared`` needs from Django beyond its public API, in one place.

Compiling a queryset once and turning rows into instances later uses Django's query
compiler, its related-object populators, its field converters, a queryset's iterable
class, a connection's database cursor and the connection objects themselves: none is a
documented interface. If a Django upgrade changes one of them, it breaks here, and
``tests/core/test_prepared.py`` says so; nothing else in Carnet touches them.
"""

from __future__ import annotations

import functools
import itertools
import re
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

# How many compiled statements a connection keeps: every module-level statement and the
# search's recent shapes (records.selectors.patients) fit; the least recently used goes.
MAX_COMPILED = 512
_CACHE = "_carnet_prepared"


@dataclass
class QueryParts:
    """A compiled queryset: its SQL, its parameters and how to read its rows."""

    sql: str
    params: list[Any]
    mode: str  # "model", "tuple" or "flat"
    model: Any
    init_list: list[str]
    model_start: int
    model_end: int
    populators: list[Any]
    converters: list[tuple[int, tuple[list[Any], Any]]]


def connection_for(alias: str) -> BaseDatabaseWrapper:
    """The connection of this thread to the database a statement uses."""
    return connections[alias]


def compiled_cache(connection: BaseDatabaseWrapper) -> OrderedDict[Any, Any]:
    """The statements compiled on this connection (one per thread and database, as Django
    keeps connections, so converters bound to a connection stay with it)."""
    cache: OrderedDict[Any, Any] = connection.__dict__.setdefault(_CACHE, OrderedDict())
    return cache


def remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > MAX_COMPILED:
        cache.popitem(last=False)


def compile_queryset(queryset: QuerySet[Any], connection: BaseDatabaseWrapper) -> QueryParts:
    compiler = queryset.query.get_compiler(connection=connection)
    sql, raw_params = compiler.as_sql()
    select = compiler.select
    iterable = queryset._iterable_class
    if iterable is ModelIterable:
        mode = "model"
        klass_info = compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        # (django-stubs describe a later Django, with a fourth argument)
        populators = get_related_populators(klass_info, select, queryset.db)  # type: ignore[call-arg]
        model = klass_info["model"]
    elif iterable in (ValuesListIterable, FlatValuesListIterable):
        mode = "flat" if iterable is FlatValuesListIterable else "tuple"
        start, end, init_list, populators, model = 0, 0, [], [], None
    else:
        raise TypeError("only model instances or values_list() can be prepared")
    columns = [column[0] for column in select[0 : compiler.col_count]]
    return QueryParts(
        sql=sql,
        params=list(raw_params),
        mode=mode,
        model=model,
        init_list=init_list,
        model_start=start,
        model_end=end,
        populators=populators,
        converters=list(compiler.get_converters(columns).items()),
    )


def convert(
    rows: Sequence[Any],
    converters: list[tuple[int, tuple[list[Any], Any]]],
    connection: BaseDatabaseWrapper,
) -> Sequence[Any]:
    """The field converters of each column, as the queryset would apply them."""
    if not converters:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for position, (functions, expression) in converters:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        converted.append(row)
    return converted


def instance(parts: QueryParts, row: Sequence[Any], alias: str) -> Any:
    """A row as the model's instance, its select_related objects filled in."""
    obj = parts.model.from_db(alias, parts.init_list, row[parts.model_start : parts.model_end])
    for populator in parts.populators:
        populator.populate(row, obj)
    return obj


# Statements prepared in a database session, by their SQL: the name each was prepared
# under (the session's, on the psycopg connection: a new connection prepares anew).
_PREPARED_MAX = 1000
_names = itertools.count(1)
_prepared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
# Integers a prepared statement's parameter takes whatever its column's type (integer).
_INTEGER = (-(2**31), 2**31 - 1)
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")


@functools.lru_cache(maxsize=2048)
def _with_numbers(sql: str) -> tuple[str, list[str | int]]:
    """The statement with PostgreSQL's numbered parameters ($1, $2...) for psycopg's
    (%s, or %(name)s), and, in order, what each number takes (a position or a name)."""
    order: list[str | int] = []

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        # A name used twice is one parameter, as psycopg binds it on the server, so a
        # statement means the same here as through psycopg. Its uses must agree on one
        # type: cast where one wants another (an id set as text: ``%(person)s::text``).
        name = match.group(1)
        if name and name in order:
            return f"${order.index(name) + 1}"
        order.append(name or len([o for o in order if isinstance(o, int)]))
        return f"${len(order)}"

    return _PLACEHOLDER.sub(number, sql), order


def _executed(
    raw: psycopg.ClientCursor[Any],
    prepared: dict[str, str],
    sql: str,
    params: Any,
    planned_once: bool = True,
) -> tuple[list[str], str | None]:
    """The commands running a statement by its prepared name (preparing it first if this
    session has not: then its name, to remember once the message succeeded)."""
    if not planned_once:
        return [raw.mogrify(sql, params)], None
    if params and any(
        type(value) is int and not _INTEGER[0] <= value <= _INTEGER[1]
        for value in (params.values() if isinstance(params, dict) else params)
    ):
        # Past PostgreSQL's integer: the parameter of a prepared statement on an integer
        # column could not take it (an error), where the value written in the statement
        # compares as a larger number (no row, as for any unknown id).
        return [raw.mogrify(sql, params)], None
    numbered, order = _with_numbers(sql)
    name = prepared.get(sql)
    commands, new = [], None
    if name is None:
        name = new = f"carnet_{next(_names)}"
        commands.append(f"PREPARE {name} AS {numbered}")
    if not order:
        commands.append(f"EXECUTE {name}")
    else:
        values = [params[key] for key in order]
        literals = raw.mogrify(", ".join(["%s"] * len(values)), values)
        commands.append(f"EXECUTE {name}({literals})")
    return commands, new


def execute_together(
    connection: BaseDatabaseWrapper, statements: Sequence[tuple[str, Any, bool]]
) -> list[list[Any]]:
    """Run the statements (SQL, values, planned once?) in one message; the rows of each,
    in order.

    Each statement is prepared in the database session on its first use there and then
    executed by name (``PREPARE``, ``EXECUTE``): PostgreSQL plans it once per session
    instead of on every request (planning cost the hot reads more than running them);
    the values are still bound on the client, as Django binds them, so the message
    costs the application what it did."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        session = connection.connection
        prepared = _prepared.setdefault(session, {})
        if len(prepared) > _PREPARED_MAX:  # many distinct statements: start again
            # (only ours: the session may hold others)
            cursor.execute("; ".join(f"DEALLOCATE {name}" for name in prepared.values()))
            prepared.clear()
        commands: list[str] = []
        ends: list[int] = []  # each statement's last command: the one with its rows
        new: dict[str, str] = {}
        for sql, params, planned_once in statements:
            # (a statement twice in one message is prepared once)
            known = {**prepared, **new} if new else prepared
            run, name = _executed(raw, known, sql, params, planned_once)
            commands += run
            ends.append(len(commands) - 1)
            if name is not None:
                new[sql] = name
        cursor.execute("; ".join(commands))
        results: list[list[Any]] = []
        wanted = set(ends)
        for index in range(len(commands)):
            if index:
                raw.nextset()
            if index in wanted:
                results.append(raw.fetchall())
        prepared.update(new)
        if connection.queries_logged:  # the statements' text, not their names
            connection.queries_log[-1]["sql"] = "; ".join(
                raw.mogrify(sql, params) for sql, params, _once in statements
            )
    return results
