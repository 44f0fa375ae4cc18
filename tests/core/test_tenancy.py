"""Row-level security: the application role sees only the current practice's rows."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import ProgrammingError
from django.test.utils import CaptureQueriesContext

from core import dbsecurity, tenancy
from tests.fixtures import World


def raw(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_it_runs_the_tests_as_the_application_role(db: None) -> None:
    assert raw("SELECT current_user") == [("carnet_app",)]


def test_a_select_without_where_returns_only_the_current_practice_rows(world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    rows = raw("SELECT practice_id, birth_name FROM records_patient")
    assert rows == [(world.practice_a.pk, "Dupont")]

    tenancy.activate(world.practice_b.pk)
    rows = raw("SELECT practice_id, birth_name FROM records_patient")
    assert rows == [(world.practice_b.pk, "Zola")]


def test_without_a_practice_context_nothing_is_visible(world: World) -> None:
    tenancy.activate(None)
    assert raw("SELECT count(*) FROM records_patient") == [(0,)]
    assert raw("SELECT count(*) FROM records_careteammember") == [(0,)]


def test_it_refuses_to_write_a_row_into_another_practice(world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    with pytest.raises(ProgrammingError, match="row-level security"), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_careteammember (practice_id, patient_id, person_id, since)"
            " VALUES (%s, %s, %s, now())",
            [world.practice_b.pk, world.zoe.pk, world.alice.pk],
        )


def test_it_cannot_update_another_practice_rows(world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE records_patient SET city = 'Pirate' WHERE id = %s", [world.zoe.pk])
        assert cursor.rowcount == 0
    tenancy.activate(world.practice_b.pk)
    assert raw(f"SELECT city FROM records_patient WHERE id = {world.zoe.pk}") == [("Lyon",)]


def test_every_table_with_a_practice_column_has_row_level_security(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity,
                   (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname)
            FROM pg_class c JOIN information_schema.columns col
              ON col.table_name = c.relname AND col.column_name = 'practice_id'
            WHERE c.relkind = 'r' AND col.table_schema = current_schema()
            """
        )
        rows = cursor.fetchall()
    assert len(rows) >= 4
    for table, rls_enabled, policies in rows:
        if table in dbsecurity.registry.exempt:
            continue
        assert rls_enabled, f"{table} has practice_id but no row-level security"
        assert policies >= 1, f"{table} has no policy"


def test_the_application_role_owns_no_table(db: None) -> None:
    assert raw("SELECT count(*) FROM pg_tables WHERE tableowner = 'carnet_app'") == [(0,)]


def app_login_conninfo() -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST']} port={db['PORT']} user=carnet_app dbname={db['NAME']}"


def test_through_a_real_login_of_the_application_role(db: None) -> None:
    """Not the test connection's SET ROLE: a fresh login as carnet_app, as in production."""
    with psycopg.connect(app_login_conninfo()) as conn:
        assert conn.execute("SELECT current_user, session_user").fetchone() == (
            "carnet_app",
            "carnet_app",
        )
        ids = []
        for slug in ("rls-a", "rls-b"):
            practice_id = conn.execute(
                "INSERT INTO practices_practice (slug, name, address, postal_code, city, phone,"
                " finess, country, created_at, is_active)"
                " VALUES (%s, %s, '', '', '', '', '', 'FR', now(), true) RETURNING id",
                [slug, slug],
            ).fetchone()[0]
            conn.execute("SELECT set_config('carnet.practice_id', %s, true)", [str(practice_id)])
            conn.execute(
                "INSERT INTO records_patient (practice_id, birth_name, used_name, given_names,"
                " sex, birth_date, birth_place, nir, address, postal_code, city, phone, email,"
                " trusted_person_name, trusted_person_relation, trusted_person_phone,"
                " advance_directives, advance_directives_location, search_name, version,"
                " created_at, updated_at) VALUES (%s, %s, '', 'X', 'F', '1980-01-01', '', '',"
                " '', '', '', '', '', '', '', '', false, '', '', 1, now(), now())",
                [practice_id, f"patient-of-{slug}"],
            )
            ids.append(practice_id)
        conn.execute("SELECT set_config('carnet.practice_id', %s, true)", [str(ids[0])])
        rows = conn.execute("SELECT birth_name FROM records_patient").fetchall()
        assert rows == [("patient-of-rls-a",)]
        conn.rollback()


def test_a_new_transaction_starts_without_a_practice_context(db: None) -> None:
    """The statement Carnet's tenancy.activate sends sets the practice for its
    transaction only: the next transaction on the same connection (the next request of a
    pooled connection) starts with none, so it sees no practice's rows until it enters
    one. (Were the statement's ``true`` — local — lost, this fails.)"""
    with psycopg.connect(app_login_conninfo(), autocommit=False) as conn:
        conn.execute(tenancy._SET_TENANT.sql, {"practice": "42", "person": "7"})
        setting = "SELECT current_setting('carnet.practice_id', true)"
        assert conn.execute(setting).fetchone()[0] == "42"
        conn.commit()
        assert conn.execute(setting).fetchone()[0] in ("", None)


def test_the_person_of_a_request_is_sent_before_its_first_statement(world: World) -> None:
    """A page's person is known from the transaction's start and sent with its first
    statement, whatever that statement is (the ORM's, hand-written), and counted."""
    tenancy.activate(None, None)  # nothing set in the database, as in a new transaction
    with connection.execute_wrapper(tenancy.send_unsent):
        tenancy.activate_person(world.alice.pk)
        assert tenancy.current() == tenancy.Tenant(None, world.alice.pk)
        with CaptureQueriesContext(connection) as captured:
            rows = raw("SELECT current_setting('carnet.person_id', true)")
            raw("SELECT 1")
        assert rows == [(str(world.alice.pk),)]
        assert len(captured.captured_queries) == 3  # the person, then the two statements


def test_a_statement_that_sets_the_tenant_itself_is_not_preceded_by_the_person(
    world: World,
) -> None:
    tenancy.activate(None, None)
    with connection.execute_wrapper(tenancy.send_unsent):
        tenancy.activate_person(world.alice.pk)
        with CaptureQueriesContext(connection) as captured:
            tenancy.activate(world.practice_a.pk, world.alice.pk)
        assert len(captured.captured_queries) == 1
        assert raw("SELECT current_setting('carnet.practice_id', true)") == [
            (str(world.practice_a.pk),)
        ]


def test_without_the_person_sent_a_person_sees_none_of_their_memberships(world: World) -> None:
    """The test above can fail: memberships are readable only once the person is set."""
    tenancy.activate(None, None)
    tenancy.activate_person(world.alice.pk)  # no wrapper installed: nothing is sent
    assert raw("SELECT count(*) FROM accounts_membership") == [(0,)]
    tenancy.activate(None, world.alice.pk)
    assert raw("SELECT count(*) FROM accounts_membership")[0][0] >= 1
