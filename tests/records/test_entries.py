"""Clinical entries: never silently overwritten, corrections keep history, removal is
'entered in error', concurrent edits are detected."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Encounter, EntryRevision, Observation, Problem
from tests.fixtures import World


def test_a_consultation_keeps_its_note_vitals_and_documentation_time(
    world: World, alice_on_paul
) -> None:
    actor, access = alice_on_paul
    encounter = services.consultation_record(
        actor=actor,
        access=access,
        reason="Toux depuis 5 jours",
        subjective="Toux sèche, pas de fièvre",
        assessment="Bronchite aiguë",
        vitals={"weight": Decimal("72.5"), "systolic": Decimal("128")},
        documentation_seconds=340.7,
    )
    encounter.refresh_from_db()
    assert encounter.documentation_seconds == 340
    assert encounter.author_id == world.alice.pk
    vitals = Observation.objects.filter(encounter=encounter).order_by("code")
    assert [(o.code, o.value, o.unit) for o in vitals] == [
        ("29463-7", Decimal("72.500"), "kg"),
        ("8480-6", Decimal("128.000"), "mm[Hg]"),
    ]
    assert AuditEvent.objects.filter(action="encounter.create", patient_id=world.paul.pk).exists()


def test_documentation_time_is_bounded(world: World, alice_on_paul) -> None:
    actor, access = alice_on_paul
    encounter = services.consultation_record(
        actor=actor, access=access, reason="R", documentation_seconds=10 * 3600
    )
    assert encounter.documentation_seconds == 2 * 3600


def test_a_correction_keeps_the_previous_content_who_when_why(world: World, alice_on_paul) -> None:
    actor, access = alice_on_paul
    problem = services.entry_create(
        actor=actor, access=access, model=Problem, label="HTA", code="I10"
    )
    services.entry_update(
        actor=actor,
        access=access,
        entry=problem,
        expected_version=1,
        reason="Précision du diagnostic",
        label="Hypertension essentielle",
    )
    problem.refresh_from_db()
    assert (problem.label, problem.version) == ("Hypertension essentielle", 2)
    revision = EntryRevision.objects.get(entry_type="problem", entry_id=problem.pk)
    assert revision.content["label"] == "HTA"
    assert (revision.version, revision.changed_by_id, revision.reason) == (
        1,
        world.alice.pk,
        "Précision du diagnostic",
    )


def test_a_correction_needs_a_reason(world: World, alice_on_paul) -> None:
    actor, access = alice_on_paul
    problem = services.entry_create(actor=actor, access=access, model=Problem, label="HTA")
    with pytest.raises(ValidationError):
        services.entry_update(
            actor=actor, access=access, entry=problem, expected_version=1, reason=" ", label="X"
        )


def test_a_concurrent_edit_is_detected_not_lost(world: World, alice_on_paul) -> None:
    actor, access = alice_on_paul
    problem = services.entry_create(actor=actor, access=access, model=Problem, label="Asthme")
    # Two people opened version 1; the first saves.
    services.entry_update(
        actor=actor,
        access=access,
        entry=problem,
        expected_version=1,
        reason="first",
        label="Asthme allergique",
    )
    with pytest.raises(services.EditConflict):
        services.entry_update(
            actor=actor,
            access=access,
            entry=problem,
            expected_version=1,
            reason="second",
            label="Asthme d'effort",
        )
    problem.refresh_from_db()
    assert problem.label == "Asthme allergique"


def test_removal_is_entered_in_error_with_a_reason(world: World, alice_on_paul) -> None:
    actor, access = alice_on_paul
    problem = services.entry_create(
        actor=actor, access=access, model=Problem, label="Mauvais patient"
    )
    services.entry_mark_in_error(
        actor=actor,
        access=access,
        entry=problem,
        expected_version=1,
        reason="Saisi dans le mauvais dossier",
    )
    problem.refresh_from_db()
    assert problem.entered_in_error and problem.error_reason == "Saisi dans le mauvais dossier"
    assert Problem.objects.filter(pk=problem.pk).exists()
    with pytest.raises(ValidationError):
        services.entry_update(
            actor=actor, access=access, entry=problem, expected_version=2, reason="x", label="y"
        )


def test_a_practitioner_outside_the_care_team_cannot_write(world: World) -> None:
    actor = world.actor(world.bob)
    with pytest.raises(AccessDenied):
        services.entry_create(actor=actor, access=access_for(world.paul), model=Problem, label="X")
    assert not Problem.objects.exists()


def test_a_secretary_cannot_write_clinical_entries(world: World) -> None:
    actor = world.actor(world.sam)
    with pytest.raises(AccessDenied):
        services.consultation_record(actor=actor, access=access_for(world.paul), reason="X")
    assert not Encounter.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "Élise D'Arcy-Ñúñez",
        "Zoë Ångström ß",
        "王小明",
        "Дмитрий Иванов",
        "محمد",
        "👩‍⚕️ emoji",
        "<script>alert(1)</script>",
    ],
)
def test_unicode_and_markup_round_trip_exactly(world: World, alice_on_paul, text: str) -> None:
    actor, access = alice_on_paul
    encounter = services.consultation_record(
        actor=actor, access=access, reason=text, subjective=text
    )
    stored = Encounter.objects.get(pk=encounter.pk)
    assert (stored.reason, stored.subjective) == (text, text)


def test_a_prescription_needs_valid_lines_and_stores_nothing_otherwise(
    world: World, alice_on_paul
) -> None:
    from records.models import Prescription

    actor, access = alice_on_paul
    with pytest.raises(ValidationError) as error:
        services.prescription_create(
            actor=actor,
            access=access,
            items=[services.ItemInput(posology="", duration_days=0, drug_label="Paracétamol")],
        )
    assert set(error.value.message_dict) == {"items.0.posology", "items.0.duration_days"}
    assert not Prescription.objects.exists()


def test_a_prescription_with_free_text_drug(world: World, alice_on_paul) -> None:
    actor, access = alice_on_paul
    prescription = services.prescription_create(
        actor=actor,
        access=access,
        renewals=2,
        items=[
            services.ItemInput(
                posology="1 cp matin",
                duration_days=30,
                drug_label="Ramipril 5 mg",
                long_term_condition=True,
            ),
            services.ItemInput(
                posology="1 g x3/j si douleur", duration_days=5, drug_label="Paracétamol 1 g"
            ),
        ],
    )
    items = list(prescription.items.all())
    assert [i.drug_label for i in items] == ["Ramipril 5 mg", "Paracétamol 1 g"]
    assert items[0].ends_on() == prescription.prescribed_on + timedelta(days=90)
