"""The practice's care-team setting, as the record applies it: in ``practice`` mode every
practitioner of the practice is in every patient's care team; in ``named`` mode (the
default) only the named team and the GP of record are. The patient's exclusions and the
sensitivity labels win in both."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import tenancy
from core.access import choices
from core.access.policy import Category
from core.access.services import AccessDenied
from core.audit.models import AuditEvent
from core.practices.models import CareTeamMode, Practice
from records import selectors, services
from records.access import access_for
from records.models import Encounter, Patient
from tests.factories import PracticeFactory
from tests.fixtures import World, enroll, totp_code


def set_mode(world: World, mode: str) -> None:
    Practice.objects.filter(pk=world.practice_a.pk).update(care_team_mode=mode)
    world.practice_a.care_team_mode = mode


def login(client: Client, person) -> Client:
    device = enroll(person)
    client.post(
        "/connexion/", {"username": person.username, "password": "correct horse battery staple"}
    )
    client.post("/connexion/code/", {"code": totp_code(device)})
    return client


def registered_at_the_desk(world: World) -> Patient:
    """A patient the secretary registered: no GP of record, no care team."""
    sam = world.actor(world.sam)
    patient = services.patient_create(
        actor=sam,
        birth_name="Nouveau",
        given_names="Noé",
        sex="M",
        birth_date=date(1990, 2, 3),
        confirm_not_duplicate=True,
    )
    assert patient.gp_id is None and not patient.care_team.exists()
    return patient


def test_a_new_practice_and_an_existing_one_keep_a_named_team(world: World) -> None:
    assert world.practice_a.care_team_mode == CareTeamMode.NAMED
    assert PracticeFactory().care_team_mode == CareTeamMode.NAMED
    world.actor(world.alice)
    assert access_for(world.paul).facts.practice_team is False


@pytest.mark.parametrize("mode", [CareTeamMode.NAMED, CareTeamMode.PRACTICE])
def test_a_patient_registered_at_the_desk_is_read_by_a_practice_gp_only_in_practice_mode(
    world: World, mode: str
) -> None:
    patient = registered_at_the_desk(world)
    set_mode(world, mode)
    bob = world.actor(world.bob)
    if mode == CareTeamMode.PRACTICE:
        selectors.patient_get(actor=bob, patient_id=patient.pk, category=Category.CLINICAL)
        event = AuditEvent.objects.filter(action="patient.read", actor_id=world.bob.pk).latest(
            "seq"
        )
        assert event.details["rule"] == "practice-care-team"
    else:
        with pytest.raises(AccessDenied) as refused:
            selectors.patient_get(actor=bob, patient_id=patient.pk, category=Category.CLINICAL)
        assert refused.value.decision.rule == "not-in-care-team"
    assert not AuditEvent.objects.filter(action="break_glass.start").exists()


@pytest.mark.parametrize("mode", [CareTeamMode.NAMED, CareTeamMode.PRACTICE])
def test_the_gp_of_record_always_reads_the_record(world: World, mode: str) -> None:
    set_mode(world, mode)
    sam = world.actor(world.sam)
    patient = services.patient_create(
        actor=sam,
        birth_name="Traitant",
        given_names="Tom",
        sex="M",
        birth_date=date(1985, 6, 7),
        gp_id=world.alice.pk,  # registered at the desk, with Alice as GP of record
        confirm_not_duplicate=True,
    )
    for patient_id in (patient.pk, world.paul.pk):
        alice = world.actor(world.alice)
        selectors.patient_get(actor=alice, patient_id=patient_id, category=Category.CLINICAL)
        event = AuditEvent.objects.filter(action="patient.read").latest("seq")
        assert (event.patient_id, event.details["rule"]) == (patient_id, "care-team")


@pytest.mark.parametrize("mode", [CareTeamMode.NAMED, CareTeamMode.PRACTICE])
def test_a_practice_gp_opens_the_chart_of_a_desk_registered_patient_only_in_practice_mode(
    client: Client, world: World, mode: str
) -> None:
    """Through the page: the setting comes with the practice read on entering it."""
    patient = registered_at_the_desk(world)
    set_mode(world, mode)
    login(client, world.bob)
    response = client.get(f"/p/{world.practice_a.slug}/patients/{patient.pk}/")
    assert response.status_code == 200
    shown = 'data-testid="clinical-refused"' not in response.content.decode()
    assert shown == (mode == CareTeamMode.PRACTICE)


def test_in_practice_mode_a_secretary_still_gets_no_clinical_content(world: World) -> None:
    set_mode(world, CareTeamMode.PRACTICE)
    sam = world.actor(world.sam)
    with pytest.raises(AccessDenied) as refused:
        selectors.patient_get(actor=sam, patient_id=world.paul.pk, category=Category.CLINICAL)
    assert refused.value.decision.rule == "not-practitioner"


def test_in_practice_mode_another_practice_gp_still_does_not_find_the_patient(
    world: World,
) -> None:
    from django.http import Http404

    set_mode(world, CareTeamMode.PRACTICE)
    charlie = world.actor(world.charlie, world.practice_b)
    with pytest.raises(Http404):
        selectors.patient_get(actor=charlie, patient_id=world.paul.pk, category=Category.CLINICAL)


def test_in_practice_mode_the_patients_exclusion_still_wins(world: World) -> None:
    set_mode(world, CareTeamMode.PRACTICE)
    sam = world.actor(world.sam)
    choices.restriction_add(
        actor=sam, patient_id=world.paul.pk, person_id=world.bob.pk, source="formulaire 3"
    )
    bob = world.actor(world.bob)
    with pytest.raises(AccessDenied) as refused:
        selectors.patient_get(actor=bob, patient_id=world.paul.pk, category=Category.CLINICAL)
    assert refused.value.decision.rule == "excluded-by-patient"


def test_in_practice_mode_an_entry_exclusion_and_a_label_still_hide_entries(
    world: World,
) -> None:
    set_mode(world, CareTeamMode.PRACTICE)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    common = {"practice": world.practice_a, "patient": world.paul, "author": world.alice}
    plain = Encounter.objects.create(**common, reason="Angine")
    hidden = Encounter.objects.create(**common, reason="Entretien")
    labelled = Encounter.objects.create(**common, reason="Suivi", sensitivity="mental_health")
    sam = world.actor(world.sam)
    choices.restriction_add(
        actor=sam,
        patient_id=world.paul.pk,
        person_id=world.bob.pk,
        source="formulaire 4",
        entry_type="encounter",
        entry_id=hidden.pk,
    )
    bob = world.actor(world.bob)
    chart = selectors.chart_for(actor=bob, patient_id=world.paul.pk)
    assert [e.pk for e in chart.encounters] == [plain.pk]
    assert chart.hidden == 2 and labelled.pk not in {e.pk for e in chart.encounters}


def test_the_setting_costs_no_query_once_the_practice_is_entered(world: World) -> None:
    """Entering a practice keeps its setting with the tenant; reading the facts of a
    record then asks nothing more of the database than before."""
    set_mode(world, CareTeamMode.PRACTICE)
    tenancy.activate_then(world.practice_a.pk, world.bob.pk, care_team_mode=CareTeamMode.PRACTICE)
    with CaptureQueriesContext(connection) as captured:
        access = access_for(world.paul)
    assert access.facts.practice_team is True
    assert len(captured.captured_queries) == 1  # the care team and the choices, together


def test_without_the_practice_at_hand_the_setting_is_read_once(world: World) -> None:
    set_mode(world, CareTeamMode.PRACTICE)
    tenancy.activate(world.practice_a.pk, world.bob.pk)  # a command, a job: not known
    with CaptureQueriesContext(connection) as captured:
        first = access_for(world.paul)
        second = access_for(world.paul)
    assert first.facts.practice_team and second.facts.practice_team
    assert len(captured.captured_queries) == 3  # the setting once, then the facts twice


def test_a_changed_setting_applies_on_the_next_request(client: Client, world: World) -> None:
    patient = registered_at_the_desk(world)
    login(client, world.bob)
    chart = f"/p/{world.practice_a.slug}/patients/{patient.pk}/"
    assert 'data-testid="clinical-refused"' in client.get(chart).content.decode()
    set_mode(world, CareTeamMode.PRACTICE)
    assert 'data-testid="clinical-refused"' not in client.get(chart).content.decode()
    set_mode(world, CareTeamMode.NAMED)
    assert 'data-testid="clinical-refused"' in client.get(chart).content.decode()
