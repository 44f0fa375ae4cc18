"""Writing many rows at once through a staging table, under row-level security.

``insert_through_staging`` sends the rows with COPY into a temporary table shaped like
the real one (a temporary table has no policy and needs no migration), then moves them
with one ``INSERT ... SELECT``: that insert is the application role's, in the practice
context, so the real table's row-level security checks every row exactly as for a
single insert. The ids come first from the table's own sequence, so the caller knows
which id each of its rows got.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def insert_through_staging(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """Insert ``rows`` (unsaved instances of ``model``, already checked) and set their
    ids. Must run inside a transaction."""
    if not rows:
        return
    meta = model._meta
    table = meta.db_table
    fields = [
        field
        for field in meta.concrete_fields
        if not field.primary_key and not isinstance(field, models.GeneratedField)
    ]
    names = [connection.ops.quote_name(meta.pk.column)] + [
        connection.ops.quote_name(field.column) for field in fields
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
            [table, meta.pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:  # nosec B608
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row(
                    [
                        pk,
                        *(
                            field.get_db_prep_save(field.pre_save(row, True), connection)
                            for field in fields
                        ),
                    ]
                )
        cursor.execute(
            f"INSERT INTO {real} ({column_list}) SELECT {column_list} FROM {staging};"  # noqa: S608  # nosec B608
            f" TRUNCATE {staging}"
        )
    for pk, row in zip(ids, rows, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias
