"""The statements of ``fetch_together`` are prepared in the database session on their first
use (``PREPARE``) and then executed by name (``EXECUTE``): PostgreSQL plans them once per
session, not on every request, and keeps a generic plan. Their answers are the
statements' own; the query log still shows their text; a new session prepares them
again; only Carnet's own are ever deallocated."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core import prepared_django, tenancy
from core.prepared import Prepared, PreparedSQL, fetch_together
from records.models import Patient
from tests.fixtures import World

NAMES = Prepared(
    lambda name: Patient.objects.filter(birth_name=name).values_list("given_names", flat=True),
    name=str,
)
REPEATED = PreparedSQL("SELECT %(word)s || '%%' || %(word)s, %(n)s::int + 1 WHERE %(n)s::int > 0")


def prepared_in_session() -> dict[str, tuple[int, int]]:
    """Carnet's prepared statements in this session: their text and how many generic
    and custom plans PostgreSQL made for them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE name LIKE 'carnet_%%'"
        )
        return {statement: (generic, custom) for _n, statement, generic, custom in cursor}


@pytest.mark.parametrize(
    ("sql", "numbered", "order"),
    [
        ("SELECT 1", "SELECT 1", []),
        ("SELECT %s, %s", "SELECT $1, $2", [0, 1]),
        ("SELECT %(a)s, %(b)s, %(a)s", "SELECT $1, $2, $1", ["a", "b"]),
        ("SELECT '100%%' WHERE x LIKE %s", "SELECT '100%' WHERE x LIKE $1", [0]),
    ],
)
def test_psycopgs_placeholders_become_numbered_parameters(
    sql: str, numbered: str, order: list[Any]
) -> None:
    assert prepared_django._with_numbers(sql) == (numbered, order)


def test_a_statement_is_prepared_once_per_session_and_answers_as_itself(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert NAMES.all(name="Dupont") == ["Paul"]
    _compiled, sql, _params = NAMES.sql_and_params({"name": "Dupont"})
    name = prepared_django._prepared[connection.connection][sql]
    after_first = prepared_in_session()
    assert any('birth_name" = $1' in statement for statement in after_first)
    for word in ["Dupont", "Personne", "Dupont", "O'Brien"] * 3:
        assert NAMES.all(name=word) == (["Paul"] if word == "Dupont" else [])
    assert prepared_in_session().keys() == after_first.keys()  # nothing prepared again
    assert prepared_django._prepared[connection.connection][sql] == name
    (row,) = fetch_together(REPEATED.bind(word="a", n=2))[0]
    assert row == ("a%a", 3)
    assert fetch_together(REPEATED.bind(word="a", n=0)) == [[]]


def test_the_plan_is_made_once_and_kept_generic(world: World) -> None:
    """After PostgreSQL's five custom plans, the generic one serves: no more planning."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    for _ in range(12):
        NAMES.all(name="Dupont")
    _compiled, sql, _params = NAMES.sql_and_params({"name": "Dupont"})
    name = prepared_django._prepared[connection.connection][sql]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            [name],
        )
        generic, custom = cursor.fetchone()
    assert custom <= 5 and generic >= 7


def test_a_statement_twice_in_one_message_is_prepared_once(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    once = PreparedSQL("SELECT %(n)s::int * 2 AS twice_in_one_message")
    assert fetch_together(once.bind(n=1), once.bind(n=2)) == [[(2,)], [(4,)]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%twice_in_one_message%"],
        )
        assert cursor.fetchone() == (1,)


def test_the_query_log_shows_the_statements_text(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    NAMES.all(name="Dupont")
    with CaptureQueriesContext(connection) as captured:
        fetch_together(NAMES.bind(name="Dupont"), REPEATED.bind(word="b", n=1))
    (sent,) = captured.captured_queries
    assert "EXECUTE" not in sent["sql"]
    assert '"records_patient"."birth_name" = \'Dupont\'' in sent["sql"]
    assert "SELECT 'b' || '%' || 'b'" in sent["sql"]


def test_a_rolled_back_transaction_keeps_the_sessions_statements(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    with transaction.atomic():
        NAMES.all(name="Dupont")
        transaction.set_rollback(True)
    assert NAMES.all(name="Dupont") == ["Paul"]


def test_a_new_session_prepares_its_statements_again(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    NAMES.all(name="Dupont")
    old_session = connection.connection
    prepared = prepared_django._prepared[old_session]
    assert prepared
    # Another session: its own statements, none of the first's.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as if the session were new
    prepared_django._prepared.pop(old_session)
    assert NAMES.all(name="Dupont") == ["Paul"]


def test_an_integer_past_the_columns_type_finds_nothing_as_before(world: World) -> None:
    """An id no integer column can hold (a fuzzer's, a typo's) finds no row, as the
    statement run unprepared finds none: never a database error."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    by_id = Prepared(lambda patient: Patient.objects.filter(pk=patient))
    assert by_id.all(patient=world.paul.pk) == [world.paul]
    for huge in (2**31, 2**63, 20076100082184630272, -(2**40)):
        assert by_id.all(patient=huge) == []
    versions = PreparedSQL("SELECT 1 FROM records_patient WHERE version = %(v)s")
    assert fetch_together(versions.bind(v=2**40)) == [[]]


def test_past_the_bound_only_carnets_own_statements_are_deallocated(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepared_django, "_PREPARED_MAX", 2)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    with connection.cursor() as cursor:
        cursor.execute("PREPARE someone_elses AS SELECT 1")
    for word in ["a", "b", "c", "d"]:
        fetch_together(PreparedSQL(f"SELECT '{word}'").bind())
    assert len(prepared_in_session()) <= 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'someone_elses'")
        assert cursor.fetchone() == (1,)
        cursor.execute("DEALLOCATE someone_elses")
    assert NAMES.all(name="Dupont") == ["Paul"]
