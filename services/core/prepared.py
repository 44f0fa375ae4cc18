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

from django.db import DEFAULT_DB_ALIAS
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

from core import prepared_django as internals

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
    parts: internals.QueryParts
    slots: list[tuple[int, str]]  # (position, parameter name); None in parts.params there
    annotations: list[tuple[int, str]] = field(default_factory=list)  # (position, attribute)


class Prepared:
    # Prepared in the database session and planned once there (core/prepared_django.py);
    # False for a statement whose best plan depends on its values.
    planned_once = True
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

    def alias(self) -> str:
        """The database the queryset reads (its ``using()``, or the routers' choice)."""
        alias = self.__dict__.get("_alias")
        if alias is None:
            alias = self._alias = self.build(**self._placeholders()).db
        return alias

    def connection(self) -> BaseDatabaseWrapper:
        return internals.connection_for(self.alias())

    def _compiled(self) -> _Compiled:
        # Kept on the connection, keyed by the statement itself (not its id, which a new
        # object could reuse); the least recently used goes past ``MAX_COMPILED``.
        connection = self.connection()
        cache = internals.compiled_cache(connection)
        found = cache.get(self)
        if found is None:
            found = self._compile(connection)
        internals.remember(cache, self, found)
        return found

    def _placeholders(self) -> dict[str, Any]:
        return {
            name: _placeholder(kind, index) for index, (name, kind) in enumerate(self.types.items())
        }

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        placeholders = self._placeholders()
        parts = internals.compile_queryset(self.build(**placeholders), connection)
        slots: list[tuple[int, str]] = []
        by_value = {repr(value): name for name, value in placeholders.items()}
        for position, value in enumerate(parts.params):
            name = by_value.get(repr(value))
            if name is not None:
                slots.append((position, name))
                parts.params[position] = None
        missing = set(placeholders) - {name for _position, name in slots}
        if missing:
            raise ValueError(
                f"prepared statement: parameter(s) {sorted(missing)} not found in the SQL "
                "(a lookup that rewrites its value cannot be prepared)"
            )
        return _Compiled(parts, slots)

    def sql_and_params(self, values: dict[str, Any]) -> tuple[_Compiled, str, list[Any]]:
        compiled = self._compiled()
        params = list(compiled.parts.params)
        for position, name in compiled.slots:
            params[position] = values[name]
        return compiled, compiled.parts.sql, params

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

    def __init__(self, sql: str, *, using: str = DEFAULT_DB_ALIAS) -> None:
        self.sql = sql
        self._alias = using
        self.compiled = _Compiled(
            internals.QueryParts(sql, [], "tuple", None, [], 0, 0, [], []), []
        )

    def sql_and_params(self, values: dict[str, Any]) -> tuple[_Compiled, str, Any]:
        return self.compiled, self.sql, values


class PreparedModelSQL(Prepared):
    """Hand-written SQL (``%(name)s`` parameters) whose rows are a model's instances, for
    a statement the ORM cannot express (common table expressions). ``sql`` contains
    ``{columns}``, replaced by the model's columns qualified by ``alias``, in the order
    the ORM selects them (so its field converters apply); the values selected after them
    are set on each instance under the names of ``annotations``."""

    def __init__(
        self,
        sql: str,
        model: Any,
        *,
        alias: str,
        annotations: Sequence[str],
        planned_once: bool = True,
    ) -> None:
        self.sql_template = sql
        self.planned_once = planned_once
        self.model = model
        self.table_alias = alias
        self.annotations = list(annotations)
        self.build = lambda: model._base_manager.all()
        self.types = {}

    def _compile(self, connection: BaseDatabaseWrapper) -> _Compiled:
        plain = super()._compile(connection)
        columns = ", ".join(
            f'{self.table_alias}."{model_field.column}"'
            for model_field in self.model._meta.concrete_fields
        )
        if len(self.model._meta.concrete_fields) != plain.parts.model_end:
            raise TypeError("the model's columns are not those its queryset selects")
        plain.parts.sql = self.sql_template.replace("{columns}", columns)
        plain.parts.params, plain.slots = [], []
        plain.annotations = [
            (plain.parts.model_end + index, name) for index, name in enumerate(self.annotations)
        ]
        return plain

    def sql_and_params(self, values: dict[str, Any]) -> tuple[_Compiled, str, Any]:
        compiled = self._compiled()
        return compiled, compiled.parts.sql, values


@dataclass(frozen=True)
class Bound:
    statement: Prepared
    values: dict[str, Any]

    def sql_and_params(self) -> tuple[_Compiled, str, Any]:
        return self.statement.sql_and_params(self.values)

    def rows(
        self, compiled: _Compiled, rows: Sequence[Any], connection: BaseDatabaseWrapper
    ) -> list[Any]:
        parts = compiled.parts
        rows = internals.convert(rows, parts.converters, connection)
        if parts.mode == "flat":
            return [row[0] for row in rows]
        if parts.mode == "tuple":
            return [tuple(row) for row in rows]
        objects = []
        for row in rows:
            obj = internals.instance(parts, row, self.statement.alias())
            for position, name in compiled.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def fetch_together(*statements: Bound) -> list[list[Any]]:
    """Run bound statements in one round trip, on the database their querysets use
    (all the same one); their results, in order."""
    aliases = {statement.statement.alias() for statement in statements}
    if len(aliases) != 1:
        raise ValueError(f"statements on several databases cannot go in one round trip: {aliases}")
    connection = internals.connection_for(aliases.pop())
    prepared = [statement.sql_and_params() for statement in statements]
    results = internals.execute_together(
        connection,
        [
            (sql, params, statement.statement.planned_once)
            for statement, (_c, sql, params) in zip(statements, prepared, strict=True)
        ],
    )
    return [
        statement.rows(compiled, rows, connection)
        for statement, (compiled, _sql, _params), rows in zip(
            statements, prepared, results, strict=True
        )
    ]
