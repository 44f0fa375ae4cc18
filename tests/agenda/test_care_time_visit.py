"""A consultation note written from an appointment is set beside the visit: the act of
documentation learns the appointment and when the patient was called in."""

from __future__ import annotations

import re

from django.test import Client

from agenda.models import Status
from core import tenancy
from records.models import DocumentationAct, Encounter
from tests.agenda.conftest import Agenda
from tests.agenda.test_day_pages import booked_today, today_url
from tests.fixtures import World
from tests.records.test_views import login


def test_the_note_of_a_visit_knows_when_the_patient_was_called_in(
    client: Client, world: World, agenda: Agenda
) -> None:
    appointment = booked_today(world, agenda, world.paul, status=Status.ARRIVED)
    alice = login(client, world.alice)
    consultation = alice.post(f"{today_url(world)}{appointment.pk}/recevoir/")["Location"]
    form = alice.get(consultation).content.decode()
    draft = re.search(r'name="draft" value="([^"]+)"', form)
    assert draft is not None
    saved = alice.post(
        consultation,
        {
            "kind": "office",
            "reason": "Toux",
            "origin": f"appointment:{appointment.pk}",
            "draft": draft.group(1),
        },
    )
    assert saved.status_code == 302
    tenancy.activate(world.practice_a.pk)
    appointment.refresh_from_db()
    act = DocumentationAct.objects.get(encounter=Encounter.objects.get(patient=world.paul))
    assert act.appointment_id == appointment.pk
    assert act.visit_started_at == appointment.seen_at
    assert act.measured_seconds is not None
    tenancy.activate(None)
