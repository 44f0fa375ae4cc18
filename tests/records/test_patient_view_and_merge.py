"""The patient view (screen turned to the patient) and the audited merge of duplicates."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import tenancy
from core.audit.models import AuditEvent
from records import services
from records.access import access_for
from records.models import Encounter, Patient, Problem
from tests.factories import PatientFactory
from tests.fixtures import World, totp_code
from tests.records.test_views import login, url


def test_the_patient_view_shows_only_this_patient_and_needs_a_code_to_leave(
    client: Client, world: World
) -> None:
    services.entry_create(
        actor=world.actor(world.alice), access=access_for(world.paul), model=Problem, label="Asthme"
    )
    alice = login(client, world.alice)
    response = alice.post(url(world, "vue-patient/"))
    assert response.status_code == 302
    page = alice.get(response["Location"]).content.decode()
    assert "DUPONT Paul" in page and "Asthme" in page
    assert 'class="site"' not in page  # no navigation bar
    # Any other page sends back to the patient view.
    other = alice.get(f"/p/{world.practice_a.slug}/patients/")
    assert other.status_code == 302 and other["Location"].endswith("/vue-patient/")
    # A wrong code, or the password, keeps it on.
    alice.post(f"/p/{world.practice_a.slug}/vue-patient/sortie/", {"code": "nope"})
    alice.post(
        f"/p/{world.practice_a.slug}/vue-patient/sortie/",
        {"code": "correct horse battery staple"},
    )
    assert alice.get(f"/p/{world.practice_a.slug}/patients/").status_code == 302
    # The code of the practitioner's authenticator ends it.
    device = TOTPDevice.objects.get(user=world.alice, confirmed=True)
    alice.post(f"/p/{world.practice_a.slug}/vue-patient/sortie/", {"code": totp_code(device)})
    assert alice.get(f"/p/{world.practice_a.slug}/patients/").status_code == 200


def test_a_merge_moves_the_entries_and_is_audited_on_both_records(world: World) -> None:
    tenancy.activate(world.practice_a.pk)
    twin = PatientFactory(
        practice=world.practice_a, gp=world.alice, birth_name="Dupond", given_names="Paul", nir=""
    )
    actor = world.actor(world.alice)
    services.consultation_record(
        actor=actor, access=access_for(twin), reason="Vu sous l'autre dossier"
    )
    services.patient_merge(
        actor=actor, keep=world.paul, duplicate=twin, reason="Même personne (faute de frappe)"
    )
    assert Encounter.objects.get().patient_id == world.paul.pk
    assert Patient.objects.get(pk=twin.pk).merged_into_id == world.paul.pk
    merges = AuditEvent.objects.filter(action="patient.merge")
    assert {e.patient_id for e in merges} == {world.paul.pk, twin.pk}


def test_a_merge_needs_write_access_to_both_records(world: World) -> None:
    from core.access.services import AccessDenied

    tenancy.activate(world.practice_a.pk)
    twin = PatientFactory(practice=world.practice_a, gp=world.bob, birth_name="Dupond", nir="")
    with pytest.raises(AccessDenied):
        services.patient_merge(
            actor=world.actor(world.alice), keep=world.paul, duplicate=twin, reason="Même personne"
        )
    with pytest.raises(ValidationError):
        services.patient_merge(
            actor=world.actor(world.alice), keep=world.paul, duplicate=world.paul, reason="x"
        )
