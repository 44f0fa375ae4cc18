"""What the fuzzing and hostile-input tests stand on: practice A with one of everything
(entries of each kind, a prescription, a document, a letter, an invoice, a consent, an
exclusion), personal API tokens for a practitioner and a secretary, and a count of the
practice's rows, to show that a refused request stored nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from core import tenancy
from core.accounts import services as accounts
from tests.billing.conftest import fee_schedules  # noqa: F401 - the fee files, loaded once
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.sharing.test_consent_pages import paris_in_directory

# The apps whose tables a request of the API or of the pages can write to. The audit
# trail is left out on purpose: it records refusals too.
COUNTED_APPS = ("records", "billing", "access", "sharing", "agenda")

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def counted_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in COUNTED_APPS and model._meta.managed
    )


def row_counts(practice_id: int) -> dict[str, int]:
    """How many rows of each counted table practice A sees (row-level security applies),
    in one query: it runs around every fuzzed request."""
    query = " UNION ALL ".join(
        f"SELECT '{name}', count(*) FROM {name}" for name in counted_tables()
    )
    with tenancy.practice_context(practice_id), connection.cursor() as cursor:
        cursor.execute(query)
        return {name: int(count) for name, count in cursor.fetchall()}


@dataclass
class FuzzWorld:
    """Practice A with one of everything, and who calls."""

    world: World
    tokens: dict[str, str]  # role -> "Bearer ..."
    known: dict[str, Any] = field(default_factory=dict)  # path parameter -> an existing id
    entries: dict[str, int] = field(default_factory=dict)  # entry kind -> id

    def counts(self) -> dict[str, int]:
        return row_counts(self.world.practice_a.pk)

    @staticmethod
    def check_constraints() -> None:
        """What the commit of a request would check: foreign keys are deferred, so a
        dangling id is found only then (a 500 in production)."""
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def call(self, client: Client, method: str, path: str, role: str = "practitioner", **kw: Any):
        return getattr(client, method)(path, HTTP_AUTHORIZATION=self.tokens[role], **kw)


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def fuzz_world(world: World, fee_schedules: None, settings: Any, tmp_path: Any) -> FuzzWorld:  # noqa: F811
    settings.MEDIA_ROOT = tmp_path
    paris_in_directory()
    tokens = {}
    for role, person in (("practitioner", world.alice), ("secretary", world.sam)):
        tenancy.activate(world.practice_a.pk, person.pk)
        _token, plaintext = accounts.api_token_create(
            person=person, practice=world.practice_a, name="fuzz"
        )
        tokens[role] = f"Bearer {plaintext}"
    tenancy.activate(world.practice_a.pk)
    # Someone the patient can exclude without changing what Alice and Sam may see.
    dora = PersonFactory(username="dora", full_name="Dr Dora Durand", profession="gp")
    MembershipFactory(practice=world.practice_a, person=dora, role="practitioner")
    tenancy.activate(None)

    fuzz = FuzzWorld(world=world, tokens=tokens)
    client = Client()
    paul = f"/api/v1/patients/{world.paul.pk}"
    today = timezone.localdate().isoformat()

    def post(path: str, body: dict[str, Any], role: str = "practitioner") -> dict[str, Any]:
        return _created(
            fuzz.call(
                client, "post", f"{paul}/{path}", role, data=body, content_type="application/json"
            )
        )

    fuzz.entries = {
        "encounters": post("encounters/", {"reason": "Toux", "subjective": "Toux sèche"})["id"],
        "problems": post("problems/", {"label": "Hypertension", "code": "I10"})["id"],
        "allergies": post("allergies/", {"substance": "Pénicilline"})["id"],
        "immunizations": post("immunizations/", {"vaccine": "DTP", "vaccinated_on": "2026-01-05"})[
            "id"
        ],
        "observations": post(
            "observations/", {"code": "29463-7", "label": "Poids", "value": "72.5", "unit": "kg"}
        )["id"],
    }
    prescription = post(
        "prescriptions/",
        {
            "items": [
                {"drug_label": "Paracétamol 500 mg", "posology": "1 cp x3/j", "duration_days": 5}
            ]
        },
    )
    document = _created(
        fuzz.call(
            client,
            "post",
            f"{paul}/documents/",
            data={
                "file": SimpleUploadedFile("cr.pdf", MINIMAL_PDF),
                "title": "Compte rendu",
                "kind": "report",
                "document_date": today,
            },
        )
    )
    invoice = post(
        "invoices/",
        {"practitioner": world.alice.pk, "service_date": today, "lines": [{"code": "G"}]},
        role="secretary",
    )
    consent = post(
        "consents/",
        {
            "grantee_node": "paris",
            "grantee_practice": "cabinet-p",
            "categories": ["problems", "allergies"],
            "source": "formulaire signé n° 1",
        },
        role="secretary",
    )
    exclusion = post("exclusions/", {"person": dora.pk, "source": "formulaire n° 2"}, "secretary")
    fuzz.known = {
        **_agenda(fuzz, client, world),
        "patient_id": world.paul.pk,
        "prescription_id": prescription["id"],
        "document_id": document["id"],
        "invoice_id": invoice["id"],
        "consent_id": consent["id"],
        "restriction_id": exclusion["id"],
        "day": today,
    }
    return fuzz


def _agenda(fuzz: FuzzWorld, client: Client, world: World) -> dict[str, Any]:
    """Alice's agenda: a site, a type, her week, one appointment of Paul's, an absence
    and a calendar feed, made through the API (the ids the agenda's paths are aimed at)."""
    from datetime import time

    from agenda.models import AppointmentType, OpeningHours, Site
    from tests.agenda.conftest import at, next_weekday

    tenancy.activate(world.practice_a.pk)
    site = Site.objects.create(practice=world.practice_a, name="Cabinet")
    kind = AppointmentType.objects.create(
        practice=world.practice_a, name="Consultation", minutes=20
    )
    for weekday in range(6):
        OpeningHours.objects.create(
            practice=world.practice_a,
            practitioner=world.alice,
            site=site,
            weekday=weekday,
            starts=time(8),
            ends=time(19),
        )
    tenancy.activate(None)

    def send(path: str, body: dict[str, Any], role: str = "secretary") -> dict[str, Any]:
        return _created(
            fuzz.call(
                client,
                "post",
                f"/api/v1/agenda/{path}",
                role,
                data=body,
                content_type="application/json",
            )
        )

    appointment = send(
        f"patients/{world.paul.pk}/appointments/",
        {
            "practitioner": world.alice.pk,
            "type": kind.pk,
            "starts_at": at(next_weekday(0), 9).isoformat(),
            "reason": "douleur",
        },
    )
    day = next_weekday(2)
    absence = send(
        "absences/",
        {
            "practitioner": world.alice.pk,
            "starts_at": at(day, 8).isoformat(),
            "ends_at": at(day, 12).isoformat(),
        },
    )
    feed = send("feeds/", {"with_names": False}, role="practitioner")
    return {
        "appointment_id": appointment["id"],
        "practitioner_id": world.alice.pk,
        "absence_id": absence["id"],
        "feed_id": feed["id"],
    }


@pytest.fixture
def in_process() -> Iterator[None]:
    """Requests sent straight to the WSGI application share the test's database
    connection and transaction, as with Django's test client: the end of a request
    must not close that connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
