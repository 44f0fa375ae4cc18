"""Database-side security, applied after every migration (idempotent).

- every table with a ``practice_id`` column gets row-level security with the
  ``carnet_tenant`` policy, unless its app registered a policy of its own or listed it
  as exempt with a reason;
- the apps' SQL functions are created (``CREATE OR REPLACE``);
- the application role gets data privileges on every table, except on append-only
  tables where it may only INSERT and SELECT.

Doing this in one place after all migrations means a new tenant table cannot be
forgotten; ``tests/core/test_tenancy.py`` checks that every such table has RLS enabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

TENANT_COLUMN = "practice_id"


@dataclass
class Registry:
    # table -> list of SQL statements creating its policies (use {table})
    policies: dict[str, list[str]] = field(default_factory=dict)
    # table -> why it is not row-level secured
    exempt: dict[str, str] = field(default_factory=dict)
    append_only: set[str] = field(default_factory=set)
    # tables the application role may only read
    read_only: set[str] = field(default_factory=set)
    # the gateway role's only privileges: table -> privileges (it reads no clinical table)
    gateway: dict[str, str] = field(default_factory=dict)
    # an app's own SQL functions (CREATE OR REPLACE), created after the core's
    functions: list[str] = field(default_factory=list)


registry = Registry()


def register_policies(table: str, statements: list[str]) -> None:
    registry.policies[table] = statements


def register_exempt(table: str, reason: str) -> None:
    registry.exempt[table] = reason


def register_append_only(table: str) -> None:
    registry.append_only.add(table)


def register_read_only(table: str) -> None:
    registry.read_only.add(table)


def register_gateway_access(table: str, privileges: str) -> None:
    registry.gateway[table] = privileges


def register_function(statement: str) -> None:
    if statement not in registry.functions:
        registry.functions.append(statement)


FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION carnet_current_practice() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT NULLIF(current_setting('carnet.practice_id', true), '')::bigint $$
    """,
    """
    CREATE OR REPLACE FUNCTION carnet_current_person() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT NULLIF(current_setting('carnet.person_id', true), '')::bigint $$
    """,
    # The standbys' state for the node's monitoring (core.node_status), readable by the
    # application role: only these columns, with the privileges of the owner role (which
    # sees them when it is a member of pg_monitor), never other sessions' queries.
    """
    CREATE OR REPLACE FUNCTION carnet_replication()
    RETURNS TABLE (application_name text, state text, lag_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS
    $$ SELECT application_name::text, state::text,
              extract(epoch FROM coalesce(replay_lag, write_lag))::double precision
       FROM pg_stat_replication $$
    """,
]

DEFAULT_POLICY = (
    "CREATE POLICY carnet_tenant ON {table}"
    " USING (practice_id = carnet_current_practice())"
    " WITH CHECK (practice_id = carnet_current_practice())"
)


def tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND c.column_name = %s
              AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name
            """,
            [TENANT_COLUMN],
        )
        return [row[0] for row in cursor.fetchall()]


def all_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def apply() -> None:
    """Create helper functions, RLS policies and grants. Runs as the owner role."""
    app_role = settings.CARNET_APP_DB_ROLE
    with connection.cursor() as cursor:
        for statement in [*FUNCTIONS, *registry.functions]:
            cursor.execute(statement)
        for table in tenant_tables():
            if table in registry.exempt:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
                continue
            cursor.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            cursor.execute(
                "SELECT policyname FROM pg_policies WHERE schemaname = current_schema()"
                " AND tablename = %s",
                [table],
            )
            for (policy,) in cursor.fetchall():
                cursor.execute(f'DROP POLICY "{policy}" ON "{table}"')
            for statement in registry.policies.get(table, [DEFAULT_POLICY]):
                cursor.execute(statement.format(table=f'"{table}"'))

        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cursor.fetchone() is None:
            return  # a bare database (e.g. a developer's own): nothing to grant to
        cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{app_role}"')
        cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{app_role}"')
        cursor.execute(f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO "{app_role}"')
        for table in all_tables():
            if table in registry.append_only:
                cursor.execute(f'REVOKE ALL ON "{table}" FROM "{app_role}"')
                cursor.execute(f'GRANT SELECT, INSERT ON "{table}" TO "{app_role}"')
            elif table in registry.read_only or table == "django_migrations":
                cursor.execute(f'REVOKE ALL ON "{table}" FROM "{app_role}"')
                cursor.execute(f'GRANT SELECT ON "{table}" TO "{app_role}"')
            else:
                cursor.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO "{app_role}"')
        _grant_gateway(cursor, settings.CARNET_GATEWAY_DB_ROLE)


def _grant_gateway(cursor: Any, gateway_role: str) -> None:
    """The gateway role gets exactly the registered privileges and nothing else."""
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [gateway_role])
    if cursor.fetchone() is None:
        return
    cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{gateway_role}"')
    for table in all_tables():
        cursor.execute(f'REVOKE ALL ON "{table}" FROM "{gateway_role}"')
        if table in registry.gateway:
            cursor.execute(f'GRANT {registry.gateway[table]} ON "{table}" TO "{gateway_role}"')
    cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{gateway_role}"')
