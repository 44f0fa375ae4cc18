"""Vital signs on the chart: the last values in French notation, plots of weight and
blood pressure over time (server-drawn SVG with a text alternative), and the record's
PDF in the same notation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.utils import timezone, translation

from records import services, vitals
from records.access import access_for
from records.models import Allergy, Observation
from tests.fixtures import World
from tests.records.test_views import login, pdf_text


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/{rest}"


@pytest.fixture
def alice(client: Client, world: World) -> Client:
    return login(client, world.alice)


def consult(world: World, days_ago: int, **signs: str) -> None:
    services.consultation_record(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        reason="Suivi",
        occurred_at=timezone.now() - timedelta(days=days_ago),
        vitals={name: Decimal(value) for name, value in signs.items()},
    )


def plot_of(page: str, key: str) -> str:
    found = re.search(rf'data-testid="{key}-plot">(.*?)</figure>', page, re.S)
    assert found, f"no {key} plot"
    return found.group(1)


def test_vitals_typed_in_a_consultation_appear_on_the_chart_in_french_notation(
    alice: Client, world: World
) -> None:
    saved = alice.post(
        url(world, "consultation/"),
        {
            "kind": "office",
            "reason": "Fièvre",
            "weight": "72.5",
            "height": "178",
            "systolic": "142",
            "diastolic": "85",
            "heart_rate": "88",
            "temperature": "38.2",
            "spo2": "97",
        },
    )
    assert saved.status_code == 302

    page = alice.get(url(world)).content.decode()

    block = page[page.index('data-testid="vitals"') :]
    for shown in ("72,5 kg", "178 cm", "22,9 kg/m²", "142/85 mmHg", "88 /min", "38,2 °C", "97 %"):
        assert shown in block, shown
    assert "Cel" not in page and "mm[Hg]" not in page and "38,200" not in page


def test_a_patient_with_three_weights_gets_a_plot_with_three_points(
    alice: Client, world: World
) -> None:
    for days_ago, weight in ((400, "80.0"), (200, "77.5"), (10, "75.2")):
        consult(world, days_ago, weight=weight, systolic="150", diastolic="92")

    page = alice.get(url(world)).content.decode()

    weight = plot_of(page, "weight")
    assert "<svg" in weight and weight.count("<circle") == 3
    assert 'role="img"' in weight and "<title" in weight and "<desc" in weight
    assert "75,2 kg" in weight  # the table of values, for those who do not see the plot
    pressure = plot_of(page, "bp")
    assert pressure.count("<circle") == 6  # systolic and diastolic, three times
    assert "150/92 mmHg" in pressure


def test_one_weight_gives_the_value_and_a_plot_of_one_point(alice: Client, world: World) -> None:
    consult(world, 3, weight="64")

    page = alice.get(url(world)).content.decode()

    assert "64 kg" in page
    assert plot_of(page, "weight").count("<circle") == 1
    assert 'data-testid="bp-plot"' not in page


def test_the_record_pdf_prints_units_as_people_write_them(alice: Client, world: World) -> None:
    consult(world, 1, temperature="38.2", systolic="142", diastolic="85")

    text = pdf_text(alice.get(url(world, "dossier.pdf")).content)

    assert "38,2 °C" in text
    assert "142 mmHg" in text and "85 mmHg" in text
    assert "Cel" not in text and "mm[Hg]" not in text and "38,200" not in text


def test_the_consultation_form_shows_allergies_treatment_and_the_last_note(
    alice: Client, world: World
) -> None:
    actor, access = world.actor(world.alice), access_for(world.paul)
    services.entry_create(actor=actor, access=access, model=Allergy, substance="Pénicilline")
    services.prescription_create(
        actor=actor,
        access=access,
        items=[services.ItemInput(posology="1 cp/j", duration_days=90, drug_label="Metformine")],
    )
    services.consultation_record(
        actor=actor, access=access, reason="Toux", subjective="Toux sèche depuis 3 jours"
    )

    page = alice.get(url(world, "consultation/")).content.decode()

    beside = page[page.index('data-testid="beside"') :]
    assert "Pénicilline" in beside
    assert "Metformine" in beside
    assert "Toux sèche depuis 3 jours" in beside
    assert 'data-testid="allergy-alert"' in page  # and in the banner, always


@pytest.mark.parametrize(
    ("value", "french", "english"),
    [("38.200", "38,2", "38.2"), ("72.000", "72", "72"), ("0.500", "0,5", "0.5")],
)
def test_numbers_follow_the_language(value: str, french: str, english: str) -> None:
    with translation.override("fr"):
        assert vitals.number(Decimal(value)) == french
    with translation.override("en"):
        assert vitals.number(Decimal(value)) == english


def test_a_sensitive_consultation_keeps_its_vitals_from_the_rest_of_the_team(
    world: World,
) -> None:
    from records.selectors import chart_for

    services.consultation_record(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        reason="Consultation sensible",
        sensitivity="mental_health",
        vitals={"weight": Decimal("70")},
    )
    assert Observation.objects.filter(patient=world.paul, sensitivity="mental_health").exists()

    # Bob joins the team; the label still keeps the entry from him.
    services.care_team_add(actor=world.actor(world.sam), patient=world.paul, person_id=world.bob.pk)
    chart = chart_for(actor=world.actor(world.bob), patient_id=world.paul.pk)

    assert not chart.vitals.readings


def test_a_number_s_format_follows_a_change_of_settings() -> None:
    """Formatted numbers are remembered per language; a change of the number format is
    not answered from memory."""
    with translation.override("fr"):
        assert vitals.number(Decimal("1234.5")) == "1234,5"
        with override_settings(USE_THOUSAND_SEPARATOR=True, NUMBER_GROUPING=3):
            assert vitals.number(Decimal("1234.5")) == "1\N{NO-BREAK SPACE}234,5"
        assert vitals.number(Decimal("1234.5")) == "1234,5"


@pytest.mark.parametrize("zone", ["Europe/Paris", "Indian/Reunion", "America/Cayenne", "UTC"])
def test_a_plot_dates_each_value_on_the_day_of_the_practice_s_time_zone(zone: str) -> None:
    """Around midnight the day depends on the zone: the plot's dates are the local ones."""
    moments = [
        datetime(2026, 12, 6, hour, minute, tzinfo=UTC)
        for hour in (0, 2, 3, 4, 20, 21, 22, 23)
        for minute in (0, 59)
    ]
    with timezone.override(zone):
        expected = [timezone.localtime(moment).strftime("%d/%m/%Y") for moment in moments]
        found = vitals.plot(
            "weight", "Poids", [("Poids", "weight", [(m, Decimal("70")) for m in moments])], "kg"
        )
    assert found is not None
    assert [row[0] for row in found.rows] == expected
    assert [point.text.rsplit(", ", 1)[1] for point in found.series[0].points] == expected
