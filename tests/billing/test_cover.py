"""The patient's insurance cover: recorded at the desk from the attestation, kept with
its history, used on the invoice form and printed on the feuille de soins; bad input
refused with a clear error and nothing stored; another practice, an excluded
practitioner and a token of another practice refused; every access audited."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from billing.models import Cover, Invoice
from core import tenancy
from core.audit.models import AuditEvent
from tests.fixtures import World
from tests.records.test_identity import exclude
from tests.records.test_views import login, pdf_text
from tests.token_api import TokenApi


def attestation(**more: str) -> dict[str, str]:
    return {
        "regime": "01",
        "caisse_code": "691",
        "caisse_name": "CPAM du Rhône",
        "rights_from": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "amc_name": "Mutuelle des Lilas",
        "amc_number": "12345678",
        "amc_member_number": "A-998877",
        "amc_contract": "contrat responsable",
        **more,
    }


def cover_url(world: World, patient=None) -> str:  # type: ignore[no-untyped-def]
    return f"/p/{world.practice_a.slug}/patients/{(patient or world.paul).pk}/couverture/"


def test_the_desk_records_the_cover_keeps_its_history_and_prints_it(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    tenancy.activate(world.practice_a.pk)
    world.alice.am_number = "691234567"
    world.alice.save(update_fields=["am_number"])
    sam = login(client, world.sam)
    empty = sam.get(cover_url(world), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Aucune couverture enregistrée" in empty
    assert sam.post(cover_url(world), attestation()).status_code == 302
    # The patient comes back with a new attestation: ALD recognised.
    later = attestation(long_term_condition="on", rights_from=timezone.localdate().isoformat())
    assert sam.post(cover_url(world), later).status_code == 302
    assert Cover.objects.count() == 2  # the first one kept, as history
    page = sam.get(cover_url(world), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert page.count("CPAM du Rhône") >= 2 and "Mutuelle des Lilas" in page
    assert AuditEvent.objects.filter(action="cover.record", patient_id=world.paul.pk).count() == 2
    billing = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/facturation/"
    assert "691 CPAM du Rhône" in sam.get(billing).content.decode()
    form = sam.get(f"{billing}nouvelle/").content.decode()
    assert 'name="long_term_condition" checked' in form.replace('id="id_long_term_condition" ', "")
    made = sam.post(
        f"{billing}nouvelle/",
        {
            "issuer": world.alice.pk,
            "service_date": timezone.localdate().isoformat(),
            "codes": "G",
            "has_complementary": "on",
            "long_term_condition": "on",
        },
    )
    assert made.status_code == 302, made.content.decode()[:500]
    invoice = Invoice.objects.get()
    sheet = pdf_text(
        sam.get(f"/p/{world.practice_a.slug}/factures/{invoice.pk}/feuille-de-soins.pdf").content
    )
    for printed in ("691 CPAM du Rhône", "Mutuelle des Lilas", "12345678", "691234567"):
        assert printed in sheet, printed


def test_bad_input_is_refused_clearly_and_nothing_is_stored(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    sam = login(client, world.sam)
    start = timezone.localdate()
    for bad, field, french in (
        ({"caisse_code": "69"}, "caisse_code", "3 chiffres"),
        ({"rights_until": (start - timedelta(days=31)).isoformat()}, "rights_until", "avant"),
        ({"c2s": "on", "ame": "on"}, "ame", "pas les deux"),
        ({"amc_number": "12ab"}, "amc_number", "6 à 10 chiffres"),
        ({"amc_name": ""}, "amc_name", "nom de l'organisme complémentaire"),
    ):
        response = sam.post(cover_url(world), attestation(**bad), HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 400, bad
        assert french in response.content.decode().replace("&#x27;", "'"), (bad, field)
    api = TokenApi(world, world.sam)
    path = f"patients/{world.paul.pk}/cover/"
    refused = api.send("post", path, {**attestation(), "caisse_code": "7"}, language="en")
    assert refused.status_code == 400 and "caisse_code" in refused.json()["error"]["fields"]
    assert "3 digits" in refused.json()["error"]["fields"]["caisse_code"][0]
    garbage = api.send("post", path, {"rights_from": "not a date", "regime": "\x00"})
    assert garbage.status_code == 400
    assert not Cover.objects.exists()
    no_mutuelle = {"amc_name": "", "amc_number": "", "amc_member_number": "", "amc_contract": ""}
    made = api.send("post", path, {**attestation(), **no_mutuelle, "c2s": True})
    assert made.status_code == 201, made.content
    listed = api.get(path).json()
    assert [(c["caisse_code"], c["c2s"]) for c in listed] == [("691", True)]


def test_another_practice_an_excluded_practitioner_and_reads_are_audited(
    client: Client, billing_world: World
) -> None:
    world = billing_world
    tenancy.activate(world.practice_a.pk)
    sam = login(client, world.sam)
    sam.post(cover_url(world), attestation())
    # Another practice: neither its page nor its token reach Paul's cover (nor Zoé's).
    charlie = login(Client(), world.charlie)
    assert charlie.get(cover_url(world)).status_code in (403, 404)
    other = f"/p/{world.practice_b.slug}/patients/{world.paul.pk}/couverture/"
    assert charlie.get(other).status_code == 404
    assert (
        TokenApi(world, world.charlie, world.practice_b)
        .get(f"patients/{world.paul.pk}/cover/")
        .status_code
        == 404
    )
    # Paul excluded Bob: Bob sees nothing of it and records nothing, refusals audited.
    exclude(world, world.bob)
    bob = login(Client(), world.bob)
    assert bob.get(cover_url(world)).status_code == 403
    assert bob.post(cover_url(world), attestation(caisse_code="999")).status_code == 403
    assert not Cover.objects.filter(caisse_code="999").exists()
    assert AuditEvent.objects.filter(actor_id=world.bob.pk, outcome="denied").count() >= 2
    # A read by the secretary is one event in Paul's access report.
    before = AuditEvent.objects.filter(patient_id=world.paul.pk, actor_id=world.sam.pk).count()
    assert sam.get(cover_url(world)).status_code == 200
    after = AuditEvent.objects.filter(patient_id=world.paul.pk, actor_id=world.sam.pk).count()
    assert after == before + 1
