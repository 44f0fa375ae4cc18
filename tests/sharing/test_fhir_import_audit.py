"""The bulk FHIR import's audit trail and row-level security: one chained event per
imported patient naming what was imported for them, a trail that verifies (and an
edited import event that is caught), rows written as the application role under
row-level security."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from core import tenancy
from core.audit.models import AuditEvent
from core.staging import insert_through_staging
from records.models import Encounter, Patient
from sharing.fhir import importer
from sharing.fhir.importer import COMPONENT, import_bundle
from sharing.models import ImportedResource
from tests.core.test_audit import as_database_superuser, execute, first_problem
from tests.fixtures import World
from tests.sharing.test_fhir_import import ALEXIS, MICAH

# The types Carnet stores, but documents (Synthea's bundles carry none it keeps).
SUPPORTED = set(importer.SUPPORTED) - {"DocumentReference"}


def _import_two(world: World) -> None:
    for path in (ALEXIS, MICAH):
        tenancy.activate(world.practice_a.pk, world.alice.pk)
        import_bundle(
            actor=world.actor(world.alice),
            practice=world.practice_a,
            path_or_dict=path,
            gp=world.alice,
        )
    tenancy.activate(world.practice_a.pk, world.alice.pk)


def _imported_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="fhir.import").order_by("seq"))


def test_one_event_per_imported_patient_naming_the_resources_imported(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    before = AuditEvent.objects.count()

    report = import_bundle(
        actor=world.actor(world.alice),
        practice=world.practice_a,
        path_or_dict=ALEXIS,
        gp=world.alice,
    )

    patient = Patient.objects.get(birth_name="Toy")
    (event,) = _imported_events()
    assert (event.patient_id, event.outcome, event.actor_id) == (
        patient.pk,
        "success",
        world.alice.pk,
    )
    # Every resource imported, once (a blood pressure panel is one resource, two rows).
    resources = {
        (kind, key.split(COMPONENT)[0])
        for kind, key in ImportedResource.objects.values_list("resource_type", "resource_id")
    }
    assert event.details["resources"] == len(resources) > 100
    assert Counter(event.details["created"]) == report.created
    assert event.details["unsupported"] == dict(report.unsupported)
    # Not one event per entry: the registration (the policy's decision, the new
    # patient), the import event, nothing else.
    added = AuditEvent.objects.order_by("seq")[before:]
    assert sorted(e.action for e in added) == ["fhir.import", "patient.create", "patient.write"]


def test_a_bundle_of_two_patients_gives_two_events(world: World) -> None:
    """A bundle naming two patients (two Synthea bundles made one): one event each,
    each naming that patient's resources only."""
    first, second = (json.loads(path.read_text(encoding="utf-8")) for path in (ALEXIS, MICAH))
    both = {**first, "id": "two-patients", "entry": first["entry"] + second["entry"]}
    tenancy.activate(world.practice_a.pk, world.alice.pk)

    import_bundle(
        actor=world.actor(world.alice), practice=world.practice_a, path_or_dict=both, gp=world.alice
    )

    events = _imported_events()
    assert len(events) == 2
    by_patient = {event.patient_id: event.details for event in events}
    for bundle in (first, second):
        patient_key = next(
            e["resource"]["id"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Patient"
        )
        patient_id = ImportedResource.objects.get(
            resource_type="Patient", resource_id=patient_key
        ).target_id
        stored = {
            e["resource"]["id"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] in SUPPORTED
        }
        imported = {
            key.split(COMPONENT)[0]
            for key in ImportedResource.objects.values_list("resource_id", flat=True)
        } & stored
        assert by_patient[patient_id]["resources"] == len(imported)


def test_the_trail_verifies_after_a_bulk_import(world: World) -> None:
    _import_two(world)
    assert len(_imported_events()) == 2

    with as_database_superuser():
        call_command("audit", "verify", stdout=io.StringIO())


def test_an_edited_import_event_is_caught(world: World) -> None:
    _import_two(world)
    event = _imported_events()[0]

    with as_database_superuser():
        execute(
            "UPDATE audit_event SET details = jsonb_set(details, '{resources}', '1') WHERE id = %s",
            [event.pk],
        )
        with pytest.raises(CommandError, match=f"event #{event.pk}"):
            call_command("audit", "verify", stdout=io.StringIO())
    problem = first_problem()
    assert f"event #{event.pk}" in problem
    assert "edited" in problem


def test_the_staging_write_is_checked_by_row_level_security(world: World) -> None:
    """The rows go into the real table as the application role, in the practice's
    context: a row of another practice is refused by the table's policy."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == "carnet_app"
    when = datetime(2020, 1, 1, tzinfo=UTC)
    mine = Encounter(
        practice_id=world.practice_a.pk, patient=world.paul, author=world.alice, occurred_at=when
    )
    theirs = Encounter(
        practice_id=world.practice_b.pk, patient=world.zoe, author=world.charlie, occurred_at=when
    )

    insert_through_staging(Encounter, [mine])
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        insert_through_staging(Encounter, [theirs])

    assert mine.pk is not None
    assert Encounter.objects.filter(pk=mine.pk, reason="").exists()
    assert not Encounter.objects.filter(practice_id=world.practice_b.pk).exists()
