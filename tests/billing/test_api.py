"""The billing REST API."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from billing.models import Invoice, Payment
from tests.fixtures import World
from tests.records.test_api import Api, api_for


def test_invoice_pay_twice_with_one_key_then_close(client: Client, billing_world: World) -> None:
    sam = api_for(client, billing_world, billing_world.sam)
    today = timezone.localdate().isoformat()
    created = sam.send(
        "post",
        f"patients/{billing_world.paul.pk}/invoices/",
        {
            "practitioner": billing_world.alice.pk,
            "service_date": today,
            "lines": [{"code": "G"}],
            "has_complementary": True,
        },
    )
    assert created.status_code == 201, created.content
    invoice = created.json()
    assert (invoice["total"], invoice["amo_amount"], invoice["still_due"]) == (
        "30.00",
        "19.00",
        "30.00",
    )
    path = f"invoices/{invoice['id']}/payments/"
    first = sam.send("post", path, {"method": "cash", "amount": "20.00", "idempotency_key": "abc"})
    again = sam.send("post", path, {"method": "cash", "amount": "20.00", "idempotency_key": "abc"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Payment.objects.count() == 1
    over = sam.send("post", path, {"method": "cash", "amount": "10.01", "idempotency_key": "def"})
    assert over.status_code == 400 and "amount" in over.json()["error"]["fields"]
    assert sam.get(f"invoices/{invoice['id']}/").json()["still_due"] == "10.00"
    sheet = sam.get(f"invoices/{invoice['id']}/care-sheet/")
    assert sheet.content.startswith(b"%PDF")
    closed = sam.send("post", f"cash-days/{today}/close/", {})
    assert closed.status_code == 200 and closed.json()["closed"] is True
    assert closed.json()["totals"]["cash"] == "20.00"
    late = sam.send("post", path, {"method": "cash", "amount": "10.00", "idempotency_key": "ghi"})
    assert late.status_code == 400


def test_bad_invoices_get_field_errors_and_nothing_is_written(
    client: Client, billing_world: World
) -> None:
    sam = api_for(client, billing_world, billing_world.sam)
    path = f"patients/{billing_world.paul.pk}/invoices/"
    day = timezone.localdate().isoformat()
    for body in (
        {"practitioner": billing_world.alice.pk, "service_date": day, "lines": [{"code": "NOPE"}]},
        {
            "practitioner": billing_world.alice.pk,
            "service_date": "2024-06-01",
            "lines": [{"code": "MEG"}],
        },
        {
            "practitioner": billing_world.alice.pk,
            "service_date": day,
            "lines": [{"code": "G", "excess": "15"}],
        },
        {
            "practitioner": billing_world.alice.pk,
            "service_date": day,
            "lines": [{"code": "DE", "excess": "-1"}],
        },
        {"practitioner": billing_world.sam.pk, "service_date": day, "lines": [{"code": "G"}]},
        {"practitioner": billing_world.alice.pk, "service_date": day, "lines": []},
    ):
        response = sam.send("post", path, body)
        assert response.status_code == 400, (body, response.content)
        assert response.json()["error"]["code"] == "invalid"
    assert not Invoice.objects.exists()


def test_another_practice_cannot_see_an_invoice(client: Client, billing_world: World) -> None:
    sam = api_for(client, billing_world, billing_world.sam)
    day = timezone.localdate().isoformat()
    invoice = sam.send(
        "post",
        f"patients/{billing_world.paul.pk}/invoices/",
        {"practitioner": billing_world.alice.pk, "service_date": day, "lines": [{"code": "G"}]},
    ).json()
    from core import tenancy
    from core.accounts import services as accounts

    tenancy.activate(billing_world.practice_b.pk, billing_world.charlie.pk)
    _token, plaintext = accounts.api_token_create(
        person=billing_world.charlie, practice=billing_world.practice_b, name="t"
    )
    charlie = Api(Client(), plaintext)
    assert charlie.get(f"invoices/{invoice['id']}/").status_code == 404


def test_fees_fec_and_report_endpoints(client: Client, billing_world: World) -> None:
    alice = api_for(client, billing_world, billing_world.alice)
    acts = alice.get("fees/?date=2025-03-10").json()
    assert {"code": "G", "amount": "30.00"}.items() <= next(
        a for a in acts if a["code"] == "G"
    ).items()
    assert alice.get("accounting/fec/").content.startswith(b"JournalCode")
    assert alice.get("reports/care-work/").status_code == 200
