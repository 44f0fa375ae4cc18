"""Writing many rows at once through a staging table, under row-level security.

``insert_through_staging`` sends the rows with COPY into a temporary table shaped like
the real one (a temporary table has no policy and needs no migration), then moves them
with one ``INSERT ... SELECT``: that insert is the application role's, in the practice
context, so the real table's row-level security checks every row exactly as for a
single insert. The ids come first from the table's own sequence, so the caller knows
which id each of its rows got.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone


def insert_through_staging(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert ``rows`` (unsaved instances of ``model``, already checked) and set their
    ids. Must run inside a transaction."""
    if not rows:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("insert_through_staging needs a transaction.")
    meta = model._meta
    pk_column = str(meta.pk.column) if meta.pk is not None else "id"
    table = meta.db_table
    fields = [
        field
        for field in meta.concrete_fields
        if not field.primary_key and not isinstance(field, models.GeneratedField)
    ]
    names = [connection.ops.quote_name(pk_column)] + [
        connection.ops.quote_name(str(field.column)) for field in fields
    ]
    column_list = ", ".join(names)
    staging = connection.ops.quote_name(f"staging_{table}")
    real = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {real} INCLUDING DEFAULTS)"
        )
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        values = [_value_of(field) for field in fields]
        with cursor.cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:  # nosec B608
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *(value(row) for value in values)])
        cursor.execute(
            f"INSERT INTO {real} ({column_list}) SELECT {column_list} FROM {staging};"  # noqa: S608  # nosec B608
            f" DELETE FROM {staging}"
        )
    for pk, row in zip(ids, rows, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias


# Fields whose Python value PostgreSQL takes as it is (the rows were checked by
# ``full_clean``): read directly, which is most of the speed of a bulk write.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DecimalField,
    models.ForeignKey,
)


def _value_of(field: models.Field) -> Callable[[models.Model], Any]:
    """How to read ``field``'s database value from a row, as ``save`` would write it."""
    attname = field.attname
    if isinstance(field, _PLAIN) and not isinstance(field, models.JSONField):
        return lambda row: getattr(row, attname)
    if isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add):
        # DateTimeField is a DateField: an aware datetime, or a date, as it is.
        return lambda row: _aware(getattr(row, attname))
    return lambda row: field.get_db_prep_save(field.pre_save(row, True), connection)


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and timezone.is_naive(value):
        raise ValueError(f"a naive date-time cannot be written: {value}")
    return value
