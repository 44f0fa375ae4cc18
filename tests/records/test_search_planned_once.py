"""The patient search is planned once per database connection (issue 21, generic plans):
its statement is prepared on the server on first use and, after PostgreSQL's five
custom plans, runs on one generic plan, as every statement of ``core.prepared``
(``tests/core/test_planned_once.py``); the answers are those of the statement run
unprepared."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import prepared_django
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


def test_the_search_is_prepared_once_and_runs_on_a_generic_plan(people: World) -> None:
    world = people
    actor = world.actor(world.sam)
    before = plans_of_the_search()  # the session's, from earlier searches
    for _ in range(8):
        assert patient_search(actor=actor, query="dupond helene")
    plans = plans_of_the_search()
    assert len(plans) <= len(before) + 1, plans  # one statement for this shape of query
    assert any(custom <= 5 and generic >= 3 for generic, custom in plans), plans


def test_the_prepared_search_is_logged_with_its_values_as_every_statement(people: World) -> None:
    world = people
    actor = world.actor(world.sam)
    with CaptureQueriesContext(connection) as captured:
        patient_search(actor=actor, query="dupond helene")
    searches = [q["sql"] for q in captured.captured_queries if "records_patientword" in q["sql"]]
    assert len(searches) == 1 and "'dupond'" in searches[0]


def test_the_search_planned_once_answers_as_the_search_run_unprepared(
    people: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = people
    actor = world.actor(world.sam)
    found = {query: patient_search(actor=actor, query=query) for query in QUERIES}
    assert any(found.values())
    # The same statements, sent as they are, never prepared.
    monkeypatch.setattr(prepared_django, "_executed", unprepared)
    for query in QUERIES:
        bound = patient_search(actor=actor, query=query)
        assert [(p.pk, p.exact, p.edits, p.coverage) for p in bound] == [
            (p.pk, p.exact, p.edits, p.coverage) for p in found[query]
        ], query


def unprepared(raw: Any, _prepared: Any, sql: str, params: Any) -> tuple[list[str], None]:
    return [raw.mogrify(sql, params)], None
