"""An invoice names only a consultation of its own patient in its own practice: another
practice's, another patient's or one that does not exist is refused with a clear error,
by the page and by the API, and nothing is stored; the database refuses it too."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from billing.models import Invoice
from core import tenancy
from records import services as records
from records.access import access_for
from tests.factories import PatientFactory
from tests.fixtures import World
from tests.records.test_views import login
from tests.token_api import TokenApi


def consultation(world: World, patient, author, practice=None):  # type: ignore[no-untyped-def]
    return records.consultation_record(
        actor=world.actor(author, practice), access=access_for(patient), reason="Suivi"
    )


@pytest.fixture
def elsewhere(billing_world: World) -> dict[str, int]:
    """Consultations the invoice of Paul (practice A) may not name."""
    world = billing_world
    tenancy.activate(world.practice_a.pk)
    other_patient = PatientFactory(practice=world.practice_a, gp=world.alice)
    of_another_patient = consultation(world, other_patient, world.alice).pk
    of_another_practice = consultation(world, world.zoe, world.charlie, world.practice_b).pk
    tenancy.activate(None)
    return {
        "another patient": of_another_patient,
        "another practice": of_another_practice,
        "none such": of_another_practice + 1000,
        "not a key": 2**63,
    }


def test_the_api_refuses_an_invoice_naming_a_consultation_not_of_its_patient(
    billing_world: World, elsewhere: dict[str, int]
) -> None:
    world = billing_world
    sam = TokenApi(world, world.sam)
    for what, encounter_id in elsewhere.items():
        response = sam.send(
            "post",
            f"patients/{world.paul.pk}/invoices/",
            {
                "practitioner": world.alice.pk,
                "service_date": timezone.localdate().isoformat(),
                "lines": [{"code": "G"}],
                "encounter": encounter_id,
            },
        )
        assert response.status_code == 400, (what, response.content)
        assert "encounter" in response.json()["error"]["fields"], what
    french = sam.send(
        "post",
        f"patients/{world.paul.pk}/invoices/",
        {
            "practitioner": world.alice.pk,
            "service_date": timezone.localdate().isoformat(),
            "lines": [{"code": "G"}],
            "encounter": elsewhere["another patient"],
        },
        language="fr",
    )
    assert "pas une consultation de ce patient" in french.json()["error"]["fields"]["encounter"][0]
    assert not Invoice.objects.exists()
    own = consultation(world, world.paul, world.alice)
    made = sam.send(
        "post",
        f"patients/{world.paul.pk}/invoices/",
        {
            "practitioner": world.alice.pk,
            "service_date": timezone.localdate().isoformat(),
            "lines": [{"code": "G"}],
            "encounter": own.pk,
        },
    )
    assert made.status_code == 201, made.content
    assert Invoice.objects.get().encounter_id == own.pk


def test_the_form_refuses_it_with_a_clear_message_and_stores_nothing(
    client: Client, billing_world: World, elsewhere: dict[str, int]
) -> None:
    world = billing_world
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/facturation/nouvelle/"
    for what, encounter_id in elsewhere.items():
        response = sam.post(
            url,
            {
                "issuer": world.alice.pk,
                "service_date": timezone.localdate().isoformat(),
                "codes": "G",
                "encounter": encounter_id,
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400, (what, response.status_code)
        page = response.content.decode()
        assert 'role="alert"' in page, what
        if what == "not a key":  # beyond a database key: the form's own bound
            continue
        assert "not one of this patient&#x27;s in this practice" in page, what
    assert not Invoice.objects.exists()


def test_the_database_refuses_it_whatever_the_code_does(
    billing_world: World, elsewhere: dict[str, int], alice_issuer
) -> None:
    world = billing_world
    tenancy.activate(world.practice_a.pk)
    for what in ("another patient", "another practice", "none such"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.create(
                practice=world.practice_a,
                issuer=alice_issuer,
                patient_id=world.paul.pk,
                encounter_id=elsewhere[what],
                service_date=timezone.localdate(),
                total=0,
                amo_amount=0,
                amc_amount=0,
                patient_amount=0,
                patient_contribution=0,
                due_at_desk=0,
                created_by=world.sam,
            )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated FROM pg_constraint"
            " WHERE conname = 'invoice_encounter_of_patient_in_practice'"
        )
        assert cursor.fetchone() is not None
