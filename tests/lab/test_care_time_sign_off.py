"""Reading and signing off a lab result is an act of documentation, timed from the
report page served to the sign-off."""

from __future__ import annotations

from django.test import Client

from records.models import ActKind, DocumentationAct
from tests.fixtures import World
from tests.lab.test_pages import NORMAL, page, receive_for_paul, url
from tests.records.test_care_time import assert_measured, backdate, served_draft
from tests.records.test_views import login


def test_a_sign_off_is_timed_from_the_report_served(client: Client, world: World) -> None:
    lab_file = receive_for_paul(world, NORMAL)
    alice = login(client, world.alice)
    token = served_draft(page(alice, url(world, f"{lab_file.pk}/")))
    backdate(token, 150)
    signed = alice.post(url(world, f"{lab_file.pk}/"), {"conclusion": "ras", "draft": token})
    assert signed.status_code == 302
    act = DocumentationAct.objects.get()
    assert (act.kind, act.patient_id, act.entry_id) == (
        ActKind.LAB_RESULT,
        world.paul.pk,
        lab_file.pk,
    )
    assert_measured(act, 150)
