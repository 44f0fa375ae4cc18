"""No page shows a patient as a number: the practice's review of emergency accesses
names each patient (an audited read of the identity), and leaves unnamed only a patient
who excluded the reviewer."""

from __future__ import annotations

import re

from django.test import Client

from core import tenancy
from core.access import choices
from core.audit.models import AuditEvent
from tests.fixtures import World
from tests.records.test_break_glass_letter import break_glass, pia, url  # noqa: F401


def events_about_paul(world: World) -> int:
    tenancy.activate(world.practice_a.pk)
    count = AuditEvent.objects.filter(patient_id=world.paul.pk).count()
    tenancy.activate(None)
    return count


def test_the_review_of_emergency_accesses_names_the_patient(pia: Client, world: World) -> None:  # noqa: F811
    break_glass(world, days_ago=8)
    break_glass(world, days_ago=1)
    before = events_about_paul(world)
    page = pia.get(url(world, "acces-urgence/")).content.decode()
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if "grant" in row]
    assert len(rows) == 2
    assert all(world.paul.display_name in row for row in rows)
    assert f"#{world.paul.pk}" not in page
    # Two accesses to the same patient: the identity is read (and audited) once.
    assert events_about_paul(world) == before + 1


def test_a_patient_who_excluded_the_reviewer_stays_unnamed(pia: Client, world: World) -> None:  # noqa: F811
    break_glass(world)
    tenancy.activate(world.practice_a.pk)
    from core.accounts.models import Person

    reviewer = Person.objects.get(username="pia")
    choices.restriction_add(
        actor=world.actor(world.alice),
        patient_id=world.paul.pk,
        person_id=reviewer.pk,
        source="formulaire signé n°13",
    )
    tenancy.activate(None)
    before = events_about_paul(world)
    page = pia.get(url(world, "acces-urgence/")).content.decode()
    assert world.paul.display_name not in page and world.paul.birth_name not in page
    assert f"#{world.paul.pk}" not in page
    assert "qui vous a exclu" in page
    assert events_about_paul(world) == before  # nothing of the patient read
