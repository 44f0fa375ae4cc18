"""The plain first page of a clinical search (``Observation?patient=42``) is answered in one
round trip (sharing/fhir/first_page.py) and is the general search's answer, byte for
byte: for every clinical type, for the author, for a colleague from whom the policy hides
a sensitive entry, for one the patient excluded from an entry, and past a full page.
Nothing of the record is read for a reader the policy refuses."""

# ruff: noqa: F811 - the fixtures of test_fhir_api are imported to be used here

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import tenancy
from core.access import choices
from records import services
from records.models import Observation
from sharing.fhir import api as fhir_api
from sharing.fhir import first_page as fast
from sharing.fhir.search import DEFAULT_COUNT
from tests.fixtures import World
from tests.sharing.test_fhir_api import (  # noqa: F401
    Fhir,
    PaulRecord,
    bob_in_the_team_excluded,
    fhir_for,
    ids,
    paul_record,
    refused,
)

CLINICAL_TYPES = list(fhir_api.CLINICAL_KINDS)


class Paths:
    """Which way each search was answered."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[bool] = []
        self.general_only = False
        real = fast.first_page

        def first_page(*args: Any) -> fast.FirstPage | None:
            found = None if self.general_only else real(*args)
            self.answers.append(found is not None)
            return found

        monkeypatch.setattr(fhir_api, "first_page", first_page)

    def both(self, fhir: Fhir, path: str) -> tuple[Any, Any, bool]:
        """The answer of the plain first page and of the general search alone, and
        whether the first page answered."""
        self.general_only = False
        plain = fhir.get(path)
        answered = self.answers[-1]
        self.general_only = True
        general = fhir.get(path)
        self.general_only = False
        return plain, general, answered


def same(plain: Any, general: Any) -> None:
    assert plain.status_code == general.status_code == 200, plain.content
    assert plain.content == general.content


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> Paths:
    return Paths(monkeypatch)


@pytest.mark.parametrize("resource_type", CLINICAL_TYPES)
def test_the_author_gets_the_general_answer_in_one_round_trip(
    world: World, paul_record: PaulRecord, paths: Paths, resource_type: str
) -> None:
    alice = fhir_for(world, world.alice)
    for path in (
        f"{resource_type}?patient={world.paul.pk}",
        f"{resource_type}?patient=Patient/{world.paul.pk}",
    ):
        plain, general, answered = paths.both(alice, path)
        same(plain, general)
        assert answered, path
        assert plain.json()["total"] >= 1


@pytest.mark.parametrize("resource_type", CLINICAL_TYPES)
def test_a_colleague_kept_from_a_sensitive_entry_gets_the_general_answer(
    world: World, paul_record: PaulRecord, paths: Paths, resource_type: str
) -> None:
    services.care_team_add(
        actor=world.actor(world.alice), patient=world.paul, person_id=world.bob.pk
    )
    bob = fhir_for(world, world.bob)
    plain, general, answered = paths.both(bob, f"{resource_type}?patient={world.paul.pk}")
    same(plain, general)
    # Only the conditions hold a sensitive entry (the depression): there, the general
    # search answers, leaving it out of the page and of the total.
    assert answered is (resource_type != "Condition")
    if resource_type == "Condition":
        assert str(paul_record.depression.pk) not in ids(
            [entry["resource"] for entry in plain.json()["entry"]]
        )
        assert plain.json()["total"] == 2


def test_an_entry_the_patient_hid_from_a_colleague_is_left_out_by_the_general_search(
    world: World, paul_record: PaulRecord, paths: Paths
) -> None:
    actor = bob_in_the_team_excluded(world, "problem", paul_record.diabetes.pk)
    # He may see the sensitive entry: only the exclusion hides something from him.
    choices.label_grant_add(
        actor=actor,
        patient_id=world.paul.pk,
        label="mental_health",
        person_id=world.bob.pk,
        source="formulaire signé n° 4",
    )
    bob = fhir_for(world, world.bob)
    plain, general, answered = paths.both(bob, f"Condition?patient={world.paul.pk}")
    same(plain, general)
    assert not answered
    found = ids([entry["resource"] for entry in plain.json()["entry"]])
    assert str(paul_record.diabetes.pk) not in found and plain.json()["total"] == 2
    # Another type, with no entry hidden from him: the first page answers.
    plain, general, answered = paths.both(bob, f"Immunization?patient={world.paul.pk}")
    same(plain, general)
    assert answered


def test_past_a_full_page_the_total_and_the_next_page_are_the_general_searchs(
    world: World, paul_record: PaulRecord, paths: Paths
) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    now = timezone.now()
    Observation.objects.bulk_create(
        Observation(
            practice_id=world.practice_a.pk,
            patient=world.paul,
            author=world.alice,
            code="29463-7",
            label="Poids",
            value=Decimal(70),
            unit="kg",
            effective_at=now - timedelta(days=n),
        )
        for n in range(DEFAULT_COUNT + 5)
    )
    alice = fhir_for(world, world.alice)
    plain, general, answered = paths.both(alice, f"Observation?patient={world.paul.pk}")
    assert answered
    bundle = plain.json()
    assert len(bundle["entry"]) == DEFAULT_COUNT and bundle["total"] > DEFAULT_COUNT
    # The next page's link is signed with the time: the same link, but for its signature.
    assert strip_signatures(plain.content) == strip_signatures(general.content)
    assert [link["relation"] for link in bundle["link"]] == ["self", "next"]


def strip_signatures(content: bytes) -> bytes:
    import re

    return re.sub(rb"_cursor=[^&\"]+", b"_cursor=", content)


def test_a_refused_reader_reads_nothing_of_the_record(
    world: World, paul_record: PaulRecord, paths: Paths
) -> None:
    """A secretary, a colleague of the care team whom the patient excluded from the whole
    record, and another practice's practitioner: refused before any clinical row is
    read."""
    bob_in_the_team_excluded(world)
    readers = [
        (fhir_for(world, world.sam), 403),
        (fhir_for(world, world.bob), 403),
        (fhir_for(world, world.charlie, world.practice_b), 404),
    ]
    for reader, status in readers:
        with CaptureQueriesContext(connection) as queries:
            refused(reader.get(f"Observation?patient={world.paul.pk}"), status)
        read = " ".join(query["sql"] for query in queries.captured_queries)
        assert "records_observation" not in read
        assert "records_problem" not in read
    assert paths.answers == []  # the first page was never asked for
