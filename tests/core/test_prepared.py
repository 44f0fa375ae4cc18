"""Prepared statements (core.prepared) give what their querysets give, under the same
row-level security, and are compiled once."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import tenancy
from core.prepared import Prepared, fetch_together
from records.models import Patient
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

    def counting(statement: Prepared) -> Any:
        compiled.append(statement)
        return compile_for_real(statement)

    monkeypatch.setattr(Prepared, "_compile", counting)
    connection.__dict__.pop("_carnet_prepared", None)
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
