"""A write sent again with the same Idempotency-Key is not executed twice.

This is what lets a client retry safely when it got no answer (the fault test kills
server processes and restarts the database mid-request): a consultation, an invoice,
a payment is stored once, and the retry gets the first answer back.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Invoice, InvoiceCounter
from core import tenancy
from core.accounts import services as accounts
from core.audit.models import AuditEvent
from records.models import Encounter
from tests.billing.conftest import fee_schedules  # noqa: F401 - a fixture
from tests.fixtures import World


class Api:
    def __init__(self, world: World) -> None:
        tenancy.activate(world.practice_a.pk, world.alice.pk)
        _token, self.token = accounts.api_token_create(
            person=world.alice, practice=world.practice_a, name="retries"
        )
        self.client = Client()

    def post(self, path: str, body: dict[str, Any], key: str = "") -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return self.client.post(f"/api/v1/{path}", body, content_type="application/json", **headers)


def test_a_consultation_sent_twice_with_one_key_is_stored_once(world: World) -> None:
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    body = {"reason": "Toux", "kind": "office"}
    first = api.post(path, body, key="consultation-1")
    again = api.post(path, body, key="consultation-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul, reason="Toux").count() == 1
    assert AuditEvent.objects.filter(action="encounter.create", patient_id=world.paul.pk).count()
    assert (
        AuditEvent.objects.filter(
            action="encounter.create", target=f"encounter:{first.json()['id']}"
        ).count()
        == 1
    )
    # Without a key, the same request is a new consultation (the client's choice).
    assert api.post(path, body).status_code == 201
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul, reason="Toux").count() == 2


@pytest.mark.usefixtures("fee_schedules")
def test_an_invoice_sent_twice_with_one_key_takes_one_number(world: World) -> None:
    api = Api(world)
    body = {
        "practitioner": world.alice.pk,
        "service_date": timezone.localdate().isoformat(),
        "lines": [{"code": "G"}],
    }
    path = f"patients/{world.paul.pk}/invoices/"
    first = api.post(path, body, key="invoice-1")
    again = api.post(path, body, key="invoice-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["reference"] == first.json()["reference"]
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Invoice.objects.filter(patient_id=world.paul.pk).count() == 1
    assert InvoiceCounter.objects.get().last_number == 1
    second = api.post(path, body, key="invoice-2")
    assert second.json()["reference"] != first.json()["reference"]
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert InvoiceCounter.objects.get().last_number == 2


def test_a_refused_write_is_not_remembered_and_a_key_serves_one_request_only(
    world: World,
) -> None:
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    refused = api.post(path, {"kind": "office"}, key="k")  # no reason: 400
    assert refused.status_code == 400
    corrected = api.post(path, {"reason": "Fièvre", "kind": "office"}, key="k")
    assert corrected.status_code == 201  # the refusal was not stored as the answer
    elsewhere = api.post(f"patients/{world.paul.pk}/allergies/", {"substance": "Pénicilline"}, "k")
    assert elsewhere.status_code == 400
    assert "Idempotency-Key" in elsewhere.json()["error"]["fields"]
    too_long = api.post(path, {"reason": "Fièvre", "kind": "office"}, key="x" * 65)
    assert too_long.status_code == 400
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul, reason="Fièvre").count() == 1


def test_one_person_key_does_not_replay_another_person_answer(world: World) -> None:
    """Keys belong to a person in a practice: Bob's "1" is not Alice's "1"."""
    alice = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    assert alice.post(path, {"reason": "Alice", "kind": "office"}, key="1").status_code == 201
    tenancy.activate(world.practice_a.pk, world.bob.pk)
    _token, bob_token = accounts.api_token_create(
        person=world.bob, practice=world.practice_a, name="bob"
    )
    bob = Client().post(
        f"/api/v1/{path}",
        {"reason": "Bob", "kind": "office"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bob_token}",
        HTTP_IDEMPOTENCY_KEY="1",
    )
    # Bob is not in Paul's care team: his own request is judged (and refused), Alice's
    # stored answer is never handed to him.
    assert bob.status_code == 403
    assert "Alice" not in bob.content.decode()
