"""Hot paths run a fixed number of SQL queries, whatever the size of the record.

Each request is made twice on the same patient, once with a short history and once with
a long one (and with more patients, invoices...), through the real stack (middleware,
authentication, access policy, audit): the counts must be equal, and equal to the count
written here. A new query on a hot path, or one query per row (N+1), fails a test; if a
query is added on purpose, its cost is then decided here, in review.

The counts include the test's own savepoints (the request's transaction is nested in the
test's).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import tenancy
from core.accounts import services as accounts
from core.audit.models import AuditEvent
from records.models import (
    Allergy,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from tests.factories import PatientFactory
from tests.fixtures import World, enroll, totp_code

# The queries of one request, on the benchmarked paths (see docs/performance.md). The
# audit events are linked and inserted in one call (audit_append), and an API token is
# read with its practice entered and the roles there (api_token_enter): one query each.
EXPECTED = {
    # the patient and the policy's facts go in the token's round trip (core.read_ahead)
    "chart_json": 5,
    # the session with its person and their second-factor devices (one round trip,
    # core.accounts.sessions); the practice entered by its address with the person set,
    # the roles and the patient read ahead (one: the person is not sent on its own
    # first, core.tenancy)
    "chart_html": 6,
    "patient_search": 5,
    # + the act of documentation, written in the save's transaction (records.care_time)
    "consultation_write": 11,
    # + the practice's own tariffs valid that day, one query per invoice (billing.fees)
    "invoice_issue": 23,
    "fhir_patient_read": 4,
    # the patient read ahead with the token; the entries the policy may hide, the page
    # and the count in one message (sharing/fhir/first_page.py)
    "fhir_observation_search": 5,
}


def add_history(world: World, size: int) -> None:
    """``size`` entries of every kind in Paul's record, as Alice (his GP)."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    now = timezone.now()
    common: dict[str, Any] = {
        "practice_id": world.practice_a.pk,
        "patient": world.paul,
        "author": world.alice,
    }
    Encounter.objects.bulk_create(
        Encounter(**common, reason=f"Consultation {n}", occurred_at=now - timedelta(days=n))
        for n in range(size)
    )
    Observation.objects.bulk_create(
        Observation(
            **common,
            code="29463-7",
            label="Poids",
            value=Decimal(70 + n % 5),
            unit="kg",
            effective_at=now - timedelta(days=n),
            reviewed=n % 2 == 0,
        )
        for n in range(size)
    )
    Problem.objects.bulk_create(Problem(**common, label=f"Problème {n}") for n in range(size))
    Allergy.objects.bulk_create(Allergy(**common, substance=f"Substance {n}") for n in range(size))
    Immunization.objects.bulk_create(
        Immunization(**common, vaccine="Grippe", vaccinated_on=now.date() - timedelta(days=n))
        for n in range(size)
    )
    prescriptions = Prescription.objects.bulk_create(
        Prescription(**common, prescribed_on=now.date() - timedelta(days=n)) for n in range(size)
    )
    PrescriptionItem.objects.bulk_create(
        PrescriptionItem(
            practice_id=world.practice_a.pk,
            prescription=prescription,
            drug_label="Paracétamol 1 g",
            posology="1 cp 3 fois par jour",
            duration_days=365,
        )
        for prescription in prescriptions
    )
    # More namesakes in the practice, for the search.
    for _ in range(size):
        PatientFactory(practice=world.practice_a, gp=world.alice, birth_name="Dupont")
    tenancy.activate(None)


class Caller:
    """Alice, calling with a bearer token (API, FHIR) or a verified session (pages)."""

    def __init__(self, world: World) -> None:
        tenancy.activate(world.practice_a.pk, world.alice.pk)
        _token, plaintext = accounts.api_token_create(
            person=world.alice, practice=world.practice_a, name="perf"
        )
        tenancy.activate(None)
        self.auth = f"Bearer {plaintext}"
        self.api = Client()
        self.web = Client()
        device = enroll(world.alice)
        self.web.post(
            "/connexion/",
            {"username": "alice", "password": "correct horse battery staple"},
        )
        self.web.post("/connexion/code/", {"code": totp_code(device)})

    def call(self, method: str, path: str, body: dict | None = None, *, web: bool = False) -> Any:
        if web:
            return self.web.get(path)
        if method == "GET":
            return self.api.get(path, HTTP_AUTHORIZATION=self.auth)
        return self.api.post(
            path, data=body, content_type="application/json", HTTP_AUTHORIZATION=self.auth
        )


def count(caller: Caller, method: str, path: str, body: dict | None = None, **kw: Any) -> int:
    """Queries of one request; the request must succeed and be audited."""
    events = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as captured:
        response = caller.call(method, path, body, **kw)
    assert response.status_code in (200, 201), response.content[:500]
    assert AuditEvent.objects.count() > events, "the request left no audit event"
    return len(captured.captured_queries)


REQUESTS = {
    "chart_json": ("GET", "/api/v1/patients/{paul}/chart/", None, False),
    "chart_html": ("GET", "/p/cabinet-a/patients/{paul}/", None, True),
    "patient_search": ("GET", "/api/v1/patients/?q=dupnt+paul", None, False),
    "consultation_write": (
        "POST",
        "/api/v1/patients/{paul}/encounters/",
        {"reason": "Toux", "subjective": "Depuis trois jours", "plan": "Repos"},
        False,
    ),
    "invoice_issue": (
        "POST",
        "/api/v1/patients/{paul}/invoices/",
        {"practitioner": "{alice}", "service_date": "{today}", "lines": [{"code": "G"}]},
        False,
    ),
    "fhir_patient_read": ("GET", "/fhir/r4/Patient/{paul}", None, False),
    "fhir_observation_search": ("GET", "/fhir/r4/Observation?patient={paul}", None, False),
}


def request_counts(world: World, caller: Caller, name: str) -> int:
    method, template, body, web = REQUESTS[name]
    path = template.format(paul=world.paul.pk)
    if body is not None:
        today = timezone.localdate().isoformat()
        body = {
            k: (v.format(alice=world.alice.pk, today=today) if isinstance(v, str) else v)
            for k, v in body.items()
        }
        if name == "invoice_issue":
            body["practitioner"] = world.alice.pk
    return count(caller, method, path, body, web=web)


@pytest.mark.parametrize("name", list(REQUESTS))
def test_hot_path_query_count_is_fixed_and_does_not_grow(billing_world: World, name: str) -> None:
    world = billing_world
    caller = Caller(world)
    add_history(world, 5)
    request_counts(world, caller, name)  # first use of the token writes its last use
    small = request_counts(world, caller, name)
    add_history(world, 45)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul).count() >= 50
    assert Patient.objects.filter(birth_name="Dupont").count() >= 51
    large = request_counts(world, caller, name)
    assert (small, large) == (EXPECTED[name], EXPECTED[name])


def test_the_trigram_operators_may_use_their_index_under_row_level_security(db: None) -> None:
    """Under row-level security PostgreSQL evaluates only LEAKPROOF operators before the
    tenant policy: without the declaration, the patient search cannot use its trigram
    index and computes the similarity of every patient of the practice."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE proleakproof AND proname IN"
            " ('word_similarity_op', 'word_similarity_commutator_op') ORDER BY proname"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "word_similarity_commutator_op",
            "word_similarity_op",
        ]
