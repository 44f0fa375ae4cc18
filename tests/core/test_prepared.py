"""Prepared statements (core.prepared) give what their querysets give, under the same
row-level security, and are compiled once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from core import prepared_django, tenancy
from core.prepared import Prepared, fetch_together
from records.models import Patient
from records.selectors import patients
from tests.factories import PatientFactory
from tests.fixtures import World

BY_ID = Prepared(lambda patient: Patient.objects.filter(pk=patient).select_related("gp"))
BORN_AFTER = Prepared(
    lambda born: Patient.objects.filter(birth_date__gt=born).order_by("pk"), born=date
)
NAMES = Prepared(
    lambda name: Patient.objects.filter(birth_name=name).values_list("given_names", flat=True),
    name=str,
)


def test_a_prepared_statement_gives_the_querysets_instances(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    expected = Patient.objects.select_related("gp").get(pk=world.paul.pk)
    with CaptureQueriesContext(connection) as captured:
        (found,) = BY_ID.all(patient=world.paul.pk)
        gp_name = found.gp.full_name  # populated by select_related: no query
    assert len(captured.captured_queries) == 1
    assert gp_name == "Dr Alice Arnaud"
    for field in Patient._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found._state.adding is False and found._state.db == "default"


def test_values_are_bound_at_each_use_and_the_sql_compiled_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled: list[Prepared] = []
    compile_for_real = Prepared._compile

    def counting(statement: Prepared, on: Any) -> Any:
        compiled.append(statement)
        return compile_for_real(statement, on)

    monkeypatch.setattr(Prepared, "_compile", counting)
    connections["default"].__dict__.pop("_carnet_prepared", None)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    PatientFactory(practice=world.practice_a, birth_name="Durand", given_names="Anne")
    PatientFactory(practice=world.practice_a, birth_name="Durand", given_names="Marc")
    assert sorted(NAMES.all(name="Durand")) == ["Anne", "Marc"]
    assert NAMES.all(name="Dupont") == ["Paul"]
    assert NAMES.all(name="Personne") == []
    assert compiled.count(NAMES) == 1
    old = Patient.objects.filter(pk=world.paul.pk).values_list("birth_date", flat=True)[0]
    assert world.paul.pk in [p.pk for p in BORN_AFTER.all(born=date(old.year - 1, 1, 1))]
    assert world.paul.pk not in [p.pk for p in BORN_AFTER.all(born=old)]


def test_row_level_security_applies_to_prepared_statements(world: World) -> None:
    tenancy.activate(world.practice_b.pk, world.charlie.pk)
    assert BY_ID.all(patient=world.paul.pk) == []
    assert [p.pk for p in BY_ID.all(patient=world.zoe.pk)] == [world.zoe.pk]


def test_several_statements_go_in_one_round_trip(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    with CaptureQueriesContext(connection) as captured:
        paul, names, nobody = fetch_together(
            BY_ID.bind(patient=world.paul.pk),
            NAMES.bind(name="Dupont"),
            BY_ID.bind(patient=world.zoe.pk),
        )
    assert len(captured.captured_queries) == 1
    assert [p.pk for p in paul] == [world.paul.pk]
    assert names == ["Paul"]
    assert nobody == []


def test_a_value_the_lookup_rewrites_cannot_be_prepared(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    contains = Prepared(lambda name: Patient.objects.filter(birth_name__icontains=name), name=str)
    with pytest.raises(ValueError, match="not found in the SQL"):
        contains.all(name="dup")


def test_a_quote_in_a_value_is_bound_not_spliced(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    PatientFactory(practice=world.practice_a, birth_name="O'Brien", given_names="Liam")
    hostile = "x'; DELETE FROM records_patient; --"
    assert fetch_together(NAMES.bind(name=hostile), NAMES.bind(name="O'Brien")) == [[], ["Liam"]]
    assert Patient.objects.count() == 2


def test_a_statement_runs_on_the_database_its_queryset_uses(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not always on the default connection: a queryset's ``using()`` (or the routers'
    choice) names the connection that compiles and runs it and that its instances belong
    to; statements of two databases are refused in one round trip."""
    asked: list[str] = []

    class Connections(dict):
        def __getitem__(self, alias: str) -> Any:
            asked.append(alias)
            return connection  # the test database, under another name

    monkeypatch.setattr(prepared_django, "connections", Connections())
    elsewhere = Prepared(lambda patient: Patient.objects.using("elsewhere").filter(pk=patient))
    tenancy.activate(world.practice_a.pk, world.alice.pk)  # on the default database
    asked.clear()
    (found,) = elsewhere.all(patient=world.paul.pk)
    assert found.pk == world.paul.pk and found._state.db == "elsewhere"
    assert set(asked) == {"elsewhere"}
    with pytest.raises(ValueError, match="several databases"):
        fetch_together(elsewhere.bind(patient=1), BY_ID.bind(patient=1))


def test_each_connection_keeps_a_bounded_number_of_compiled_statements(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``MAX_COMPILED`` the least recently used statement is forgotten (and compiled
    again if it comes back): statements made at run time cannot fill the memory."""
    monkeypatch.setattr(prepared_django, "MAX_COMPILED", 2)
    connections["default"].__dict__.pop("_carnet_prepared", None)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    BY_ID.all(patient=world.paul.pk)
    NAMES.all(name="Dupont")
    BY_ID.all(patient=world.paul.pk)  # used again: the most recent
    assert BORN_AFTER.all(born=date(2100, 1, 1)) == []
    assert list(connections["default"].__dict__["_carnet_prepared"]) == [BY_ID, BORN_AFTER]
    assert NAMES.all(name="Dupont") == ["Paul"]


def test_the_search_keeps_only_its_recent_shapes(world: World) -> None:
    """One statement per shape of search (short or long name terms, dates, NIRs): tens of
    thousands are possible, only the ``SEARCHES_KEPT`` most recent are kept."""
    patients._search_statement.cache_clear()
    shapes = [
        ((False,) * names, dates, nirs)
        for names in range(4)
        for dates in range(6)
        for nirs in range(6)
    ]
    assert len(shapes) > patients.SEARCHES_KEPT
    for shape in shapes:
        patients._search_statement(shape)
    assert patients._search_statement.cache_info().currsize == patients.SEARCHES_KEPT
