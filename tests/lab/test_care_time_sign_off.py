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


def test_through_the_api_a_sign_off_is_timed_from_its_draft(world: World) -> None:
    from tests.token_api import TokenApi

    lab_file = receive_for_paul(world, NORMAL)
    records_api = TokenApi(world, world.alice)
    draft = records_api.send("post", f"patients/{world.paul.pk}/drafts/", {"kind": "lab-results"})
    assert draft.status_code == 201, draft.content
    token = draft.json()["draft"]
    backdate(token, 200)
    signed = records_api.send(
        "post", f"lab/files/{lab_file.pk}/sign-off/", {"conclusion": "ras", "draft": token}
    )
    assert signed.status_code == 200, signed.content
    act = DocumentationAct.objects.get()
    assert (act.kind, act.source, act.entry_id) == (ActKind.LAB_RESULT, "api", lab_file.pk)
    assert_measured(act, 200)
