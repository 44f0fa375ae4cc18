"""Querysets compiled to SQL once per process, then only given new values.

On the hottest reads (the chart, the search, authentication), building a queryset and
compiling it to SQL cost Django more time than PostgreSQL spends answering. A
``Prepared`` statement is written as an ordinary queryset whose varying values are the
builder's parameters::

    ALLERGIES = Prepared(lambda patient: Allergy.objects.filter(patient_id=patient))
    allergies = ALLERGIES.all(patient=42)

The builder runs once, with a placeholder value for each parameter; the SQL and the
positions of the placeholders among its parameters are kept, with what is needed to turn
rows into model instances (select_related included) exactly as the queryset would. Each
use then binds the values and runs the SQL. The SQL is the queryset's own: row-level
security, the tenant's settings and the database's checks apply unchanged.

Several statements can go to PostgreSQL in one message (``fetch_together``): one round
trip for all of them.

A placeholder that Django rewrites (``icontains`` wraps its value in ``%``) cannot be
found among the parameters: the first use fails loudly rather than run a wrong query.
Statements are module-level constants; one whose SQL would depend on the request (the
active time zone in a ``__date`` lookup, the language) must not be prepared.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)

# One improbable value per parameter and type: found again among the compiled
# parameters, it gives the parameter's positions.
_PLACEHOLDER_BASE = -7_340_000_000_000


def _placeholder(kind: type, index: int) -> Any:
    if kind is int:
        return _PLACEHOLDER_BASE - index
    if kind is str:
        return f"\x1eprepared-parameter-{index}\x1e"
    if kind is datetime:
        return datetime(1, 1, 1 + index, 1, 2, 3, 456789, tzinfo=UTC)
    if kind is date:
        return date(1, 2, 1 + index)
    raise TypeError(f"unsupported parameter type {kind!r}")


@dataclass
class _Compiled:
    sql: str
    params: list[Any]  # constants, or None where a value is bound
    slots: list[tuple[int, str]]  # (position, parameter name)
    mode: str  # "model", "tuple" or "flat"
    model: Any
    init_list: list[str]
    model_start: int
    model_end: int
    populators: list[Any]
    converters: list[tuple[int, tuple[list[Any], Any]]]
    annotations: list[tuple[int, str]] = field(default_factory=list)  # (position, attribute)


class Prepared:
    """A queryset shape, compiled on first use in each database connection."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **types: type) -> None:
        self.build = build
        parameters = inspect.signature(build).parameters.values()
        if any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
            names = list(types)  # build(**values): the parameters are the types given
        else:
            names = [parameter.name for parameter in parameters]
        # Parameters are integers (ids) unless said otherwise.
        self.types = {name: types.get(name, int) for name in names}
        unknown = set(types) - set(names)
        if unknown:
            raise TypeError(f"no such parameter: {sorted(unknown)}")

    def _compiled(self) -> _Compiled:
        # Kept on the connection object: one per thread and database, as Django keeps
        # connections, so converters bound to a connection stay with it.
        # Keyed by the statement itself (not its id, which a new object could reuse).
        cache: dict[Prepared, _Compiled] = connection.__dict__.setdefault("_carnet_prepared", {})
        found = cache.get(self)
        if found is None:
            found = cache[self] = self._compile()
        return found

    def _compile(self) -> _Compiled:
        placeholders = {
            name: _placeholder(kind, index) for index, (name, kind) in enumerate(self.types.items())
        }
        queryset = self.build(**placeholders)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, raw_params = compiler.as_sql()
        params: list[Any] = list(raw_params)
        slots: list[tuple[int, str]] = []
        by_value = {repr(value): name for name, value in placeholders.items()}
        for position, value in enumerate(params):
            name = by_value.get(repr(value))
            if name is not None:
                slots.append((position, name))
                params[position] = None
        missing = set(placeholders) - {name for _position, name in slots}
        if missing:
            raise ValueError(
                f"prepared statement: parameter(s) {sorted(missing)} not found in the SQL "
                "(a lookup that rewrites its value cannot be prepared)"
            )
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
        return _Compiled(
            sql=sql,
            params=params,
            slots=slots,
            mode=mode,
            model=model,
            init_list=init_list,
            model_start=start,
            model_end=end,
            populators=populators,
            converters=list(compiler.get_converters(columns).items()),
        )

    def sql_and_params(self, values: dict[str, Any]) -> tuple[_Compiled, str, list[Any]]:
        compiled = self._compiled()
        params = list(compiled.params)
        for position, name in compiled.slots:
            params[position] = values[name]
        return compiled, compiled.sql, params

    def bind(self, **values: Any) -> Bound:
        return Bound(self, values)

    def all(self, **values: Any) -> list[Any]:
        return fetch_together(self.bind(**values))[0]

    def first(self, **values: Any) -> Any:
        rows = self.all(**values)
        return rows[0] if rows else None


class PreparedSQL(Prepared):
    """Hand-written SQL (``%(name)s`` parameters) that can go in the same message as
    prepared querysets; its rows come back as tuples."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.compiled = _Compiled(sql, [], [], "tuple", None, [], 0, 0, [], [])

    def sql_and_params(self, values: dict[str, Any]) -> tuple[_Compiled, str, Any]:
        return self.compiled, self.sql, values


class PreparedModelSQL(Prepared):
    """Hand-written SQL (``%(name)s`` parameters) whose rows are a model's instances, for
    a statement the ORM cannot express (common table expressions). ``sql`` contains
    ``{columns}``, replaced by the model's columns qualified by ``alias``, in the order
    the ORM selects them (so its field converters apply); the values selected after them
    are set on each instance under the names of ``annotations``."""

    def __init__(self, sql: str, model: Any, *, alias: str, annotations: Sequence[str]) -> None:
        self.sql_template = sql
        self.model = model
        self.alias = alias
        self.annotations = list(annotations)

    def _compile(self) -> _Compiled:
        plain = Prepared(lambda: self.model._base_manager.all())._compile()
        columns = ", ".join(
            f'{self.alias}."{model_field.column}"'
            for model_field in self.model._meta.concrete_fields
        )
        if len(self.model._meta.concrete_fields) != plain.model_end:
            raise TypeError("the model's columns are not those its queryset selects")
        plain.sql = self.sql_template.replace("{columns}", columns)
        plain.params, plain.slots = [], []
        plain.annotations = [
            (plain.model_end + index, name) for index, name in enumerate(self.annotations)
        ]
        return plain

    def sql_and_params(self, values: dict[str, Any]) -> tuple[_Compiled, str, Any]:
        compiled = self._compiled()
        return compiled, compiled.sql, values


@dataclass(frozen=True)
class Bound:
    statement: Prepared
    values: dict[str, Any]

    def sql_and_params(self) -> tuple[_Compiled, str, Any]:
        return self.statement.sql_and_params(self.values)

    def rows(self, compiled: _Compiled, rows: Sequence[Any]) -> list[Any]:
        if compiled.converters:
            converted = []
            for row in rows:
                row = list(row)
                for position, (functions, expression) in compiled.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
                converted.append(row)
            rows = converted
        if compiled.mode == "flat":
            return [row[0] for row in rows]
        if compiled.mode == "tuple":
            return [tuple(row) for row in rows]
        alias = connection.alias
        model = compiled.model
        start, end, names = compiled.model_start, compiled.model_end, compiled.init_list
        objects = []
        for row in rows:
            obj = model.from_db(alias, names, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for position, name in compiled.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def fetch_together(*statements: Bound) -> list[list[Any]]:
    """Run bound statements in one round trip; their results, in order."""
    prepared = [statement.sql_and_params() for statement in statements]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if len(prepared) == 1:
            _compiled, sql, params = prepared[0]
            cursor.execute(sql, params)
        else:
            # One message of plain statements, the values bound by psycopg on the client
            # side as Django does. (Server-side prepared statements through psycopg's
            # pipeline were measured too: no less database time per request here.)
            cursor.execute("; ".join(raw.mogrify(sql, params) for _c, sql, params in prepared))
        results: list[list[Any]] = []
        for index, (statement, (compiled, _sql, _params)) in enumerate(
            zip(statements, prepared, strict=True)
        ):
            if index:
                raw.nextset()
            results.append(statement.rows(compiled, raw.fetchall()))
    return results
