"""The patient search is planned for its words each time, never prepared: a generic plan
kept for the database session (as every other statement of ``core.prepared`` is,
``tests/core/test_planned_once.py``) once made each search of
``tests/records/test_search_quality.py`` take about a second. Its answers are those of
the statement run as it is, and the query log shows it with its values."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.selectors import patient_search
from tests.fixtures import World

QUERIES = [
    "dupont helene",
    "dupond hélène",
    "DUPUIS marc",
    "dupuis marc",
    "dup",
    "helene 14/03/1962",
    "2620369",
    "marc 1970",
    "dupont marc",
    "xyzzy",
]


def plans_of_the_search() -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["%records_patientword%"],
        )
        return list(cursor.fetchall())


def test_the_search_is_never_prepared(people: World) -> None:
    world = people
    actor = world.actor(world.sam)
    before = plans_of_the_search()
    for _ in range(8):
        assert patient_search(actor=actor, query="dupond helene")
    assert plans_of_the_search() == before


def test_the_prepared_search_is_logged_with_its_values_as_every_statement(people: World) -> None:
    world = people
    actor = world.actor(world.sam)
    with CaptureQueriesContext(connection) as captured:
        patient_search(actor=actor, query="dupond helene")
    searches = [q["sql"] for q in captured.captured_queries if "records_patientword" in q["sql"]]
    assert len(searches) == 1 and "'dupond'" in searches[0]
