"""The patient and the policy's facts, read in the API token's round trip, or in the
round trip that enters the practice for the chart page (``core.read_ahead``): taken once
by the selector, kept only for a caller who entered the practice, never beyond the
request; the policy decides on them as on any other read."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import read_ahead, tenancy
from core.accounts import services
from core.accounts.models import ApiToken
from core.audit.models import AuditEvent
from core.practices.models import Practice
from records import selectors
from tests.core.test_api_tokens import _deactivate_person, _expire, _revoke, as_a_new_request
from tests.fixtures import World
from tests.records.test_identity import exclude
from tests.records.test_views import login


def token_of(world: World, person: Any) -> str:
    tenancy.activate(world.practice_a.pk, person.pk)
    _token, plaintext = services.api_token_create(
        person=person, practice=world.practice_a, name="t"
    )
    return plaintext


def chart(client: Client, world: World, token: str, patient_id: int | None = None) -> Any:
    return client.get(
        f"/api/v1/patients/{patient_id or world.paul.pk}/chart/",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_patient_read_ahead_is_taken_once_without_a_round_trip(world: World) -> None:
    plaintext = token_of(world, world.alice)
    as_a_new_request()
    with read_ahead.request_scope():
        with CaptureQueriesContext(connection) as entering:
            token = services.api_token_enter(
                plaintext, ahead=selectors.patient_reads_ahead(world.paul.pk)
            )
        assert token is not None
        assert len(entering.captured_queries) == 1  # the token, the tenant, the patient
        with CaptureQueriesContext(connection) as first:
            patient, access = selectors.patient_with_access(world.paul.pk)
        assert len(first.captured_queries) == 0
        assert patient == world.paul
        assert world.alice.pk in access.facts.care_team
        with CaptureQueriesContext(connection) as second:
            selectors.patient_with_access(world.paul.pk)
        assert len(second.captured_queries) == 1  # read ahead once, then from the database


@pytest.mark.parametrize(
    "spoil",
    [None, _revoke, _expire, _deactivate_person],
    ids=["wrong secret", "revoked", "expired", "person deactivated"],
)
def test_a_refused_token_keeps_nothing_read_ahead(world: World, spoil: Any) -> None:
    plaintext = token_of(world, world.alice)
    if spoil is not None:
        spoil(ApiToken.objects.get(), world)
    else:
        plaintext = plaintext[:-2] + "xx"
    as_a_new_request()
    key, statements = selectors.patient_reads_ahead(world.paul.pk)
    with read_ahead.request_scope():
        assert services.api_token_enter(plaintext, ahead=(key, statements)) is None
        assert read_ahead.take(key) is None


def test_a_token_of_a_closed_practice_keeps_nothing_read_ahead(world: World) -> None:
    plaintext = token_of(world, world.alice)
    Practice.objects.filter(pk=world.practice_a.pk).update(is_active=False)
    as_a_new_request()
    key, statements = selectors.patient_reads_ahead(world.paul.pk)
    with read_ahead.request_scope():
        assert services.api_token_enter(plaintext, ahead=(key, statements)) is not None
        assert read_ahead.take(key) is None


def test_rows_read_ahead_do_not_outlive_the_request(world: World) -> None:
    plaintext = token_of(world, world.alice)
    as_a_new_request()
    key, statements = selectors.patient_reads_ahead(world.paul.pk)
    with read_ahead.request_scope():
        services.api_token_enter(plaintext, ahead=(key, statements))  # not taken
    with read_ahead.request_scope():
        assert read_ahead.take(key) is None
    assert read_ahead.take(key) is None
    read_ahead.keep(key, [[]])  # outside a request: dropped
    assert read_ahead.take(key) is None


def test_the_chart_api_reads_the_patient_in_the_tokens_round_trip(
    client: Client, world: World
) -> None:
    plaintext = token_of(world, world.alice)
    chart(client, world, plaintext)  # the token's first use writes its last use
    with CaptureQueriesContext(connection) as captured:
        response = chart(client, world, plaintext)
    assert response.status_code == 200
    assert response.json()["clinical_allowed"] is True
    patient_reads = [q["sql"] for q in captured.captured_queries if '"records_patient"' in q["sql"]]
    assert len(patient_reads) == 1
    assert "accounts_apitoken" in patient_reads[0]  # in the token's message


def test_the_chart_api_never_reads_another_practices_patient_ahead(
    client: Client, world: World
) -> None:
    response = chart(client, world, token_of(world, world.alice), world.zoe.pk)
    assert response.status_code == 404
    assert "Zola" not in response.content.decode()


def test_an_excluded_reader_is_refused_on_the_facts_read_ahead(
    client: Client, world: World
) -> None:
    plaintext = token_of(world, world.bob)
    exclude(world, world.bob)
    tenancy.activate(None)
    response = chart(client, world, plaintext)
    assert response.status_code in {403, 404}
    assert "Dupont" not in response.content.decode()
    denied = AuditEvent.objects.filter(actor_id=world.bob.pk, patient_id=world.paul.pk)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert denied.filter(outcome="denied").exists()


def test_a_secretary_gets_the_identity_only(client: Client, world: World) -> None:
    response = chart(client, world, token_of(world, world.sam))
    assert response.status_code == 200
    assert response.json()["clinical_allowed"] is False


def test_the_fhir_patient_read_takes_the_patient_read_ahead(client: Client, world: World) -> None:
    plaintext = token_of(world, world.alice)
    path = f"/fhir/r4/Patient/{world.paul.pk}"
    client.get(path, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 200
    patient_reads = [q["sql"] for q in captured.captured_queries if '"records_patient"' in q["sql"]]
    assert len(patient_reads) == 1
    assert "accounts_apitoken" in patient_reads[0]
    other = client.get(f"/fhir/r4/Patient/{world.zoe.pk}", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert other.status_code == 404
    assert (
        client.get("/fhir/r4/Patient/abc", HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code
        == 404
    )


def test_outside_a_request_nothing_is_read_ahead(world: World) -> None:
    """A command or a job reads the patient itself."""
    with transaction.atomic():
        world.actor(world.alice)
        with CaptureQueriesContext(connection) as captured:
            selectors.patient_with_access(world.paul.pk)
        assert [q["sql"] for q in captured.captured_queries if '"records_patient"' in q["sql"]]


# --- the chart page: the patient read in the round trip that enters the practice --------


def chart_page(client: Client, world: World, patient_id: int | None = None) -> Any:
    return client.get(f"/p/{world.practice_a.slug}/patients/{patient_id or world.paul.pk}/")


def test_the_chart_page_reads_the_patient_as_it_enters_the_practice(
    client: Client, world: World
) -> None:
    login(client, world.alice)
    with CaptureQueriesContext(connection) as captured:
        response = chart_page(client, world)
    assert response.status_code == 200
    assert 'data-testid="treatment"' in response.content.decode()
    patient_reads = [q["sql"] for q in captured.captured_queries if '"records_patient"' in q["sql"]]
    assert len(patient_reads) == 1
    assert "practices_practice" in patient_reads[0]  # in the message entering the practice


def test_the_chart_page_of_another_practices_patient_is_not_found(
    client: Client, world: World
) -> None:
    login(client, world.alice)
    response = chart_page(client, world, world.zoe.pk)
    assert response.status_code == 404
    assert "Zola" not in response.content.decode()


def test_the_chart_page_refuses_a_reader_the_patient_excluded(client: Client, world: World) -> None:
    exclude(world, world.bob)
    login(client, world.bob)
    response = chart_page(client, world)
    assert response.status_code in {403, 404}
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert AuditEvent.objects.filter(
        actor_id=world.bob.pk, patient_id=world.paul.pk, outcome="denied"
    ).exists()


def test_the_chart_page_of_another_practice_reads_nothing_ahead(
    client: Client, world: World
) -> None:
    login(client, world.charlie)  # of practice B
    response = chart_page(client, world)
    assert response.status_code == 403
    assert "Dupont" not in response.content.decode()


def test_a_secretary_gets_the_identity_and_its_history_only(client: Client, world: World) -> None:
    login(client, world.sam)
    response = chart_page(client, world)
    assert response.status_code == 200
    page = response.content.decode()
    assert "DUPONT" in page
    assert 'data-testid="clinical-refused"' in page
    assert 'data-testid="treatment"' not in page
