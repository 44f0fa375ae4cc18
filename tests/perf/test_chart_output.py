"""The chart's JSON written without DRF serializers is the same document as DRF's."""

from __future__ import annotations

import json
from datetime import date

from rest_framework.renderers import JSONRenderer

from core import tenancy
from records import services
from records.access import access_for
from records.api import ChartOutput
from records.chart_output import chart_document
from records.models import Allergy, Immunization, Problem
from records.selectors import chart_for
from tests.fixtures import World
from tests.perf.test_query_counts import add_history


def rendered(data: object) -> object:
    return json.loads(JSONRenderer().render(data))


def test_the_chart_document_is_the_serializers_document(world: World) -> None:
    add_history(world, 6)
    actor = world.actor(world.alice)
    access = access_for(world.paul)
    services.entry_create(
        actor=actor, access=access, model=Problem, label="Asthme", onset=date(2001, 2, 3)
    )
    services.entry_create(
        actor=actor, access=access, model=Allergy, substance="Pollen", reaction="Rhinite"
    )
    services.entry_create(
        actor=actor,
        access=access,
        model=Immunization,
        vaccine="DTP",
        vaccinated_on=date(2020, 5, 6),
        lot_number="A1",
        sensitivity="",
    )
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    chart = chart_for(actor=world.actor(world.alice), patient_id=world.paul.pk)
    assert chart.encounters and chart.problems and chart.allergies and chart.immunizations
    expected = rendered(ChartOutput(chart).data)
    assert rendered(chart_document(chart)) == expected
    assert expected["patient"]["gp"] == world.alice.pk


def test_a_refused_chart_document_is_the_serializers_document(world: World) -> None:
    chart = chart_for(actor=world.actor(world.sam), patient_id=world.paul.pk)
    assert not chart.clinical_allowed
    assert rendered(chart_document(chart)) == rendered(ChartOutput(chart).data)
