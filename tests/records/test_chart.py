"""The chart screen's data: bounded queries, and the patient's choices applied."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.access import choices
from core.access.models import BreakGlass
from core.access.services import AccessDenied
from core.audit import services as audit
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Allergy, Encounter, Problem
from records.selectors import chart_for
from tests.fixtures import World


def add_history(world: World, consultations: int) -> None:
    actor = world.actor(world.alice)
    access = access_for(world.paul)
    services.entry_create(actor=actor, access=access, model=Allergy, substance="Pénicilline")
    services.entry_create(
        actor=actor, access=access, model=Problem, label="Diabète de type 2", code="E119"
    )
    Encounter.objects.bulk_create(
        [
            Encounter(
                practice_id=world.practice_a.pk,
                patient=world.paul,
                author=world.alice,
                reason=f"Consultation {n}",
                occurred_at=timezone.now() - timedelta(days=n),
            )
            for n in range(consultations)
        ]
    )
    services.prescription_create(
        actor=actor,
        access=access,
        items=[
            services.ItemInput(posology="1 cp/j", duration_days=90, drug_label="Metformine 1000 mg")
        ],
    )


def chart_queries(world: World) -> int:
    actor = world.actor(world.alice)
    with audit.buffered() as events, CaptureQueriesContext(connection) as captured:
        chart = chart_for(actor=actor, patient_id=world.paul.pk)
    audit.append(events)
    assert chart.clinical_allowed
    assert [a.substance for a in chart.allergies] == ["Pénicilline"]
    assert len(chart.encounters) == 5
    return len(captured.captured_queries)


def test_the_chart_query_count_does_not_grow_with_the_history(world: World) -> None:
    add_history(world, 5)
    with_5 = chart_queries(world)
    Encounter.objects.bulk_create(
        [
            Encounter(
                practice_id=world.practice_a.pk,
                patient=world.paul,
                author=world.alice,
                reason=f"Ancienne {n}",
                occurred_at=timezone.now() - timedelta(days=400 + n),
            )
            for n in range(495)
        ]
    )
    assert Encounter.objects.filter(patient=world.paul).count() == 500
    with_500 = chart_queries(world)
    assert with_5 == with_500
    # The patient with the care team and the patient's choices in one round trip, the
    # seven sections and the current treatment in a second; audit at the commit.
    assert with_5 == 2


def test_the_chart_shows_current_treatment_problems_and_alerts(world: World) -> None:
    add_history(world, 2)
    chart = chart_for(actor=world.actor(world.alice), patient_id=world.paul.pk)
    assert [p.label for p in chart.problems] == ["Diabète de type 2"]
    assert [i.drug_label for i in chart.treatment] == ["Metformine 1000 mg"]
    assert AuditEvent.objects.filter(
        action="patient.read",
        category="clinical",
        patient_id=world.paul.pk,
        actor_id=world.alice.pk,
    ).exists()


def test_a_secretary_gets_the_identity_but_no_clinical_section(world: World) -> None:
    add_history(world, 2)
    chart = chart_for(actor=world.actor(world.sam), patient_id=world.paul.pk)
    assert not chart.clinical_allowed
    assert chart.allergies == [] and chart.encounters == []


# --- the patient's choices ----------------------------------------------------------


def test_an_excluded_gp_of_record_is_denied_and_it_is_audited(world: World) -> None:
    choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        person_id=world.alice.pk,
        source="formulaire signé n° 12",
    )
    with pytest.raises(AccessDenied):
        chart_for(actor=world.actor(world.alice), patient_id=world.paul.pk)
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.alice.pk).latest(
        "seq"
    )
    assert denial.patient_id == world.paul.pk
    assert denial.details["rule"] == "excluded-by-patient"


def test_the_excluded_person_cannot_lift_their_own_exclusion(world: World) -> None:
    from django.core.exceptions import PermissionDenied

    restriction = choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        person_id=world.alice.pk,
        source="oral, noté par Sam",
    )
    with pytest.raises(PermissionDenied):
        choices.restriction_revoke(actor=world.actor(world.alice), restriction=restriction)


def test_an_exclusion_from_one_entry_hides_it_from_that_person(world: World) -> None:
    actor = world.actor(world.alice)
    note = services.entry_create(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        model=Problem,
        label="Problème visible",
    )
    hidden = services.entry_create(
        actor=actor, access=access_for(world.paul), model=Problem, label="Problème caché à Bob"
    )
    services.care_team_add(actor=world.actor(world.sam), patient=world.paul, person_id=world.bob.pk)
    choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        person_id=world.bob.pk,
        entry_type="problem",
        entry_id=hidden.pk,
        source="formulaire n° 3",
    )
    chart = chart_for(actor=world.actor(world.bob), patient_id=world.paul.pk)
    assert [p.label for p in chart.problems] == [note.label]
    assert chart.hidden == 1


def test_a_sensitive_entry_is_invisible_to_a_colleague_in_the_care_team(world: World) -> None:
    services.care_team_add(actor=world.actor(world.sam), patient=world.paul, person_id=world.bob.pk)
    services.entry_create(
        actor=world.actor(world.alice),
        access=access_for(world.paul),
        model=Problem,
        label="Épisode dépressif",
        code="F32",
        sensitivity="mental_health",
    )
    bob_chart = chart_for(actor=world.actor(world.bob), patient_id=world.paul.pk)
    assert bob_chart.problems == [] and bob_chart.hidden == 1
    alice_chart = chart_for(actor=world.actor(world.alice), patient_id=world.paul.pk)
    assert [p.label for p in alice_chart.problems] == ["Épisode dépressif"]
    # The patient allows Bob to see mental-health entries.
    choices.label_grant_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        label="mental_health",
        person_id=world.bob.pk,
        source="formulaire n° 4",
    )
    bob_chart = chart_for(actor=world.actor(world.bob), patient_id=world.paul.pk)
    assert [p.label for p in bob_chart.problems] == ["Épisode dépressif"]


def test_break_the_glass_opens_the_chart_then_expires(world: World) -> None:
    bob = world.actor(world.bob)
    chart = chart_for(actor=bob, patient_id=world.paul.pk)
    assert not chart.clinical_allowed
    grant = choices.break_glass_start(
        actor=bob,
        patient_id=world.paul.pk,
        reason="Malaise en salle d'attente, médecin traitant absent",
    )
    assert chart_for(actor=world.actor(world.bob), patient_id=world.paul.pk).clinical_allowed
    start = AuditEvent.objects.get(action="break_glass.start")
    assert start.details["review"] == "pending" and start.patient_id == world.paul.pk
    # Four hours later it is over.
    BreakGlass.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not chart_for(actor=world.actor(world.bob), patient_id=world.paul.pk).clinical_allowed


def test_break_the_glass_is_limited_to_four_hours_and_needs_a_reason(world: World) -> None:
    from django.core.exceptions import ValidationError

    bob = world.actor(world.bob)
    with pytest.raises(ValidationError):
        choices.break_glass_start(actor=bob, patient_id=world.paul.pk, reason="urgence", minutes=60)
    with pytest.raises(ValidationError):
        choices.break_glass_start(
            actor=bob, patient_id=world.paul.pk, reason="Malaise en salle d'attente", minutes=241
        )
