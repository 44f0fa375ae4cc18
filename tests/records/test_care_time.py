"""Documentation is care work: every act is timed by the server, from the form (or API
draft) it served to the save; idle time past the bound is not counted; a declared time
is kept apart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from records.models import DocumentationAct, DocumentationOpening, Encounter
from records.services import care_time
from records.services.care_time import MAX_ACT, ActKind
from tests.fixtures import World
from tests.records.test_api import api_for
from tests.records.test_views import login, url

DRAFT = re.compile(r'name="draft" value="([^"]+)"')


def backdate(token: str, seconds: int) -> None:
    """The form was served ``seconds`` ago (the server's own row, moved back)."""
    opening = DocumentationOpening.objects.get(token=token)
    opening.opened_at -= timedelta(seconds=seconds)
    opening.save()


def served_draft(page: str) -> str:
    found = DRAFT.search(page)
    assert found, "the form carries its opening"
    return found.group(1)


def assert_measured(act: DocumentationAct, seconds: int) -> None:
    assert act.opened_at is not None and act.measured_seconds is not None
    as_seen = (act.saved_at - act.opened_at).total_seconds()
    assert abs(act.measured_seconds - as_seen) <= 1
    assert abs(act.measured_seconds - seconds) <= 5


@pytest.mark.parametrize("kind", ActKind.values)
def test_each_kind_counts_from_opening_to_saving_as_the_server_saw_it(
    world: World, kind: str
) -> None:
    actor = world.actor(world.alice)
    opened = timezone.now() - timedelta(hours=3)
    token = care_time.act_open(actor=actor, kind=kind, patient_id=world.paul.pk, now=opened)
    saved = opened + timedelta(minutes=7, seconds=12)
    act = care_time.act_record(
        actor=actor, kind=kind, token=token, patient_id=world.paul.pk, now=saved
    )
    assert act is not None
    assert (act.opened_at, act.saved_at, act.measured_seconds) == (opened, saved, 432)
    assert (act.kind, act.practitioner_id, act.patient_id) == (kind, world.alice.pk, world.paul.pk)
    assert not act.capped and act.declared_seconds is None
    assert not DocumentationOpening.objects.filter(token=token).exists()  # consumed


@pytest.mark.parametrize("kind", [ActKind.CONSULTATION, ActKind.LETTER])
def test_idle_time_past_the_bound_is_not_counted(world: World, kind: str) -> None:
    actor = world.actor(world.alice)
    opened = timezone.now() - timedelta(hours=5)
    token = care_time.act_open(actor=actor, kind=kind, patient_id=world.paul.pk, now=opened)
    act = care_time.act_record(
        actor=actor,
        kind=kind,
        token=token,
        patient_id=world.paul.pk,
        now=opened + timedelta(hours=3),
    )
    assert act is not None and act.capped
    assert act.measured_seconds == MAX_ACT[kind].total_seconds()


def test_a_token_counts_once_and_only_for_its_own_person_kind_and_patient(
    world: World,
) -> None:
    actor = world.actor(world.alice)
    opened = timezone.now() - timedelta(minutes=10)
    token = care_time.act_open(
        actor=actor, kind=ActKind.LETTER, patient_id=world.paul.pk, now=opened
    )
    wrong_kind = care_time.act_record(
        actor=actor, kind=ActKind.CERTIFICATE, token=token, patient_id=world.paul.pk
    )
    assert wrong_kind is not None and wrong_kind.measured_seconds is None
    bob = world.actor(world.bob)
    stolen = care_time.act_record(
        actor=bob, kind=ActKind.LETTER, token=token, patient_id=world.paul.pk
    )
    assert stolen is not None and stolen.measured_seconds is None
    actor = world.actor(world.alice)
    first = care_time.act_record(
        actor=actor, kind=ActKind.LETTER, token=token, patient_id=world.paul.pk
    )
    again = care_time.act_record(
        actor=actor, kind=ActKind.LETTER, token=token, patient_id=world.paul.pk
    )
    assert first is not None and first.measured_seconds is not None
    assert again is not None and again.measured_seconds is None


def test_a_secretary_opens_and_records_no_act(world: World) -> None:
    actor = world.actor(world.sam)
    assert care_time.act_open(actor=actor, kind=ActKind.INVOICE, patient_id=world.paul.pk) == ""
    assert care_time.act_record(actor=actor, kind=ActKind.INVOICE, patient_id=world.paul.pk) is None
    assert not DocumentationAct.objects.exists()


def test_the_consultation_form_is_timed_from_the_page_served(client: Client, world: World) -> None:
    alice = login(client, world.alice)
    page = alice.get(url(world, "consultation/")).content.decode()
    token = served_draft(page)
    backdate(token, 300)
    response = alice.post(
        url(world, "consultation/"),
        {
            "kind": "office",
            "reason": "Lombalgie",
            "draft": token,
            # A forged "I started long ago" from the old form is ignored.
            "started_at": str(timezone.now().timestamp() - 3600),
        },
    )
    assert response.status_code == 302
    encounter = Encounter.objects.get(reason="Lombalgie")
    act = DocumentationAct.objects.get(encounter=encounter)
    assert act.kind == ActKind.CONSULTATION and act.source == "form"
    assert_measured(act, 300)
    assert encounter.documentation_seconds == act.measured_seconds


def test_a_form_shown_again_with_errors_keeps_its_first_opening(
    client: Client, world: World
) -> None:
    alice = login(client, world.alice)
    token = served_draft(alice.get(url(world, "ajouter/problem/")).content.decode())
    backdate(token, 200)
    bad = alice.post(url(world, "ajouter/problem/"), {"draft": token})
    assert bad.status_code == 400
    assert served_draft(bad.content.decode()) == token
    assert not DocumentationAct.objects.exists()


@pytest.mark.parametrize(
    ("path", "data", "kind"),
    [
        ("ajouter/problem/", {"label": "Asthme", "clinical_status": "active"}, ActKind.PROBLEM),
        (
            "courrier/",
            {
                "title": "Avis",
                "recipient": "Dr Cœur",
                "body": "Cher confrère",
                "document_date": "2026-11-20",
            },
            ActKind.LETTER,
        ),
    ],
)
def test_entry_forms_are_timed(
    client: Client, world: World, path: str, data: dict, kind: str
) -> None:
    alice = login(client, world.alice)
    token = served_draft(alice.get(url(world, path)).content.decode())
    backdate(token, 240)
    response = alice.post(url(world, path), {**data, "draft": token})
    assert response.status_code == 302, response.content.decode()[:2000]
    act = DocumentationAct.objects.get()
    assert (act.kind, act.patient_id) == (kind, world.paul.pk)
    assert_measured(act, 240)


def test_through_the_api_a_draft_is_measured_and_a_declared_time_kept_apart(
    client: Client, world: World
) -> None:
    api = api_for(client, world, world.alice)
    draft = api.send("post", f"patients/{world.paul.pk}/drafts/", {"kind": "encounters"})
    assert draft.status_code == 201, draft.content
    token = draft.json()["draft"]
    backdate(token, 180)
    created = api.send(
        "post",
        f"patients/{world.paul.pk}/encounters/",
        {"reason": "Angine", "draft": token, "documentation_seconds": 5000},
    )
    assert created.status_code == 201, created.content
    act = DocumentationAct.objects.get()
    assert act.source == "api" and act.declared_seconds == 5000
    assert_measured(act, 180)
    assert created.json()["documentation_seconds"] == act.measured_seconds


def test_a_declared_time_without_a_draft_is_never_measured(client: Client, world: World) -> None:
    api = api_for(client, world, world.alice)
    created = api.send(
        "post",
        f"patients/{world.paul.pk}/encounters/",
        {"reason": "Otite", "documentation_seconds": 600},
    )
    assert created.status_code == 201
    act = DocumentationAct.objects.get()
    assert (act.declared_seconds, act.measured_seconds, act.opened_at) == (600, None, None)
    assert Encounter.objects.get(reason="Otite").documentation_seconds == 0


def test_a_draft_for_a_patient_of_another_practice_is_refused(client: Client, world: World) -> None:
    api = api_for(client, world, world.alice)
    response = api.send("post", f"patients/{world.zoe.pk}/drafts/", {"kind": "letters"})
    assert response.status_code in (403, 404)
    assert not DocumentationOpening.objects.exists()


def test_the_demo_gives_a_month_of_acts_once(world: World) -> None:
    from datetime import date

    from carnet_demo.care_time_demo import demo_care_time_create
    from records.selectors.care_time import care_time_report

    actor = world.actor(world.alice)
    today = date(2026, 11, 15)
    written = demo_care_time_create(actor=actor, patient_ids=[world.paul.pk], today=today)
    assert written > 100
    assert demo_care_time_create(actor=actor, patient_ids=[world.paul.pk], today=today) == 0
    report = care_time_report(actor=actor, practitioner_id=world.alice.pk, month=date(2026, 11, 1))
    consultation = next(line for line in report.kinds if line.kind == ActKind.CONSULTATION)
    assert consultation.acts > 20 and consultation.measured_seconds > 0
    assert len(report.trends) == 2
