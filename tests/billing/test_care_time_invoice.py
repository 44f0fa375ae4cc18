"""An invoice made by the practitioner is an act of documentation; the desk's is not."""

from __future__ import annotations

from django.test import Client

from billing.models import Invoice
from records.models import ActKind, DocumentationAct
from tests.fixtures import World
from tests.records.test_care_time import assert_measured, backdate, served_draft
from tests.records.test_views import login


def invoice_url(world: World) -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/facturation/nouvelle/"


def test_an_invoice_made_by_the_practitioner_is_timed(client: Client, billing_world: World) -> None:
    alice = login(client, billing_world.alice)
    token = served_draft(alice.get(invoice_url(billing_world)).content.decode())
    backdate(token, 90)
    response = alice.post(
        invoice_url(billing_world),
        {
            "issuer": billing_world.alice.pk,
            "service_date": "2026-11-02",
            "codes": "G",
            "has_complementary": "on",
            "draft": token,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    act = DocumentationAct.objects.get()
    assert (act.kind, act.entry_id) == (ActKind.INVOICE, Invoice.objects.get().pk)
    assert_measured(act, 90)


def test_the_desk_making_an_invoice_records_no_act(client: Client, billing_world: World) -> None:
    sam = login(client, billing_world.sam)
    assert 'name="draft"' not in sam.get(invoice_url(billing_world)).content.decode()
    response = sam.post(
        invoice_url(billing_world),
        {
            "issuer": billing_world.alice.pk,
            "service_date": "2026-11-02",
            "codes": "G",
            "has_complementary": "on",
        },
    )
    assert response.status_code == 302
    assert not DocumentationAct.objects.exists()


def test_through_the_api_an_invoice_is_timed_from_its_draft(billing_world: World) -> None:
    from tests.token_api import TokenApi

    world = billing_world
    api = TokenApi(world, world.alice)
    draft = api.send("post", f"patients/{world.paul.pk}/drafts/", {"kind": "invoices"})
    assert draft.status_code == 201, draft.content
    token = draft.json()["draft"]
    backdate(token, 75)
    made = api.send(
        "post",
        f"patients/{world.paul.pk}/invoices/",
        {
            "practitioner": world.alice.pk,
            "service_date": "2026-11-02",
            "lines": [{"code": "G"}],
            "draft": token,
        },
    )
    assert made.status_code == 201, made.content
    act = DocumentationAct.objects.get()
    assert (act.kind, act.source, act.entry_id) == (ActKind.INVOICE, "api", made.json()["id"])
    assert_measured(act, 75)
