"""The patient's portability copy: a FHIR bundle that validates, audited, policy-bound."""

from __future__ import annotations

from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Problem
from tests.fixtures import World
from tests.records.test_api import api_for


def test_the_portability_copy_validates_and_is_audited(client: Client, world: World) -> None:
    actor = world.actor(world.alice)
    services.entry_create(
        actor=actor, access=access_for(world.paul), model=Problem, label="Asthme", code="J459"
    )
    services.consultation_record(
        actor=actor, access=access_for(world.paul), reason="Suivi", vitals={"weight": 70}
    )
    alice = api_for(client, world, world.alice)
    response = alice.get(f"patients/{world.paul.pk}/portability/")
    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json())
    kinds = [entry.resource.__resource_type__ for entry in bundle.entry]
    assert {"Patient", "Condition", "Encounter", "Observation"} <= set(kinds)
    assert AuditEvent.objects.filter(action="patient.export", patient_id=world.paul.pk).exists()


def test_a_secretary_cannot_export_the_record(client: Client, world: World) -> None:
    sam = api_for(client, world, world.sam)
    assert sam.get(f"patients/{world.paul.pk}/portability/").status_code == 403
