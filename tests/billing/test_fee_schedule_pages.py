"""The fee schedule's pages and API: any member reads it, only an administrator adds a
tariff or imports a file (previewed, then confirmed); bad input answers 400 with the
reason and stores nothing."""

from __future__ import annotations

import html

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from billing.models import PracticeTariff
from core import tenancy
from core.accounts.models import Person
from tests.billing.test_fee_schedules import HEADER, NOVEMBER_FILE
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_api import api_for
from tests.records.test_views import login


def admin_of_a(world: World) -> Person:
    tenancy.activate(world.practice_a.pk)
    person = PersonFactory(username="ada", full_name="Ada Admin")
    MembershipFactory(practice=world.practice_a, person=person, role="practice_admin")
    tenancy.activate(None)
    return person


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/tarifs/{rest}"


def stored(world: World) -> int:
    """The practice's tariffs, read inside practice A (row-level security hides them
    from a reader of no practice, so the count would otherwise always be zero)."""
    tenancy.activate(world.practice_a.pk)
    return PracticeTariff.objects.count()


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def test_the_administrator_previews_then_imports_a_file(
    client: Client, billing_world: World
) -> None:
    ada = login(client, admin_of_a(billing_world))
    upload = SimpleUploadedFile("tarifs.csv", NOVEMBER_FILE, content_type="text/csv")
    preview = ada.post(url(billing_world, "import/"), {"file": upload})
    assert preview.status_code == 200
    page = text(preview)
    assert "Vérifier avant d'importer" in page or "Check before importing" in page
    assert "Acte médical infirmier" in page
    assert stored(billing_world) == 0  # nothing before the confirmation
    content = preview.context["confirm_form"].initial["content"]
    done = ada.post(url(billing_world, "import/"), {"content": content, "confirm": "True"})
    assert done.status_code == 302
    tenancy.activate(billing_world.practice_a.pk)
    assert sorted(PracticeTariff.objects.values_list("code", flat=True)) == ["AMI", "IFD"]
    listing = text(ada.get(url(billing_world, "?jour=2026-11-02")))
    assert "3.30" in listing or "3,30" in listing


def test_a_bad_file_answers_400_with_its_lines_and_stores_nothing(
    client: Client, billing_world: World
) -> None:
    ada = login(client, admin_of_a(billing_world))
    bad = (HEADER + "FR,NGAP,AMI,Acte,key,2026-13-01,,3.30,60,,,x,nurse\n").encode()
    upload = SimpleUploadedFile("tarifs.csv", bad, content_type="text/csv")
    answer = ada.post(url(billing_world, "import/"), {"file": upload})
    assert answer.status_code == 400
    assert 'role="alert"' in answer.content.decode()
    assert "2" in answer.context["form"].errors["file"][0]
    assert stored(billing_world) == 0
    empty = ada.post(url(billing_world, "import/"), {})
    assert empty.status_code == 400
    assert empty.context["form"].errors["file"]


def test_a_tariff_form_error_is_on_its_field(client: Client, billing_world: World) -> None:
    ada = login(client, admin_of_a(billing_world))
    form = {
        "nomenclature": "NGAP",
        "code": "g!",
        "label": "Consultation",
        "kind": "act",
        "valid_from": "2026-06-01",
        "valid_to": "2026-05-01",
        "amount": "31.00",
        "amo_rate": "70",
    }
    answer = ada.post(url(billing_world, "nouveau/"), form)
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert set(errors) == {"code", "valid_to"}
    assert stored(billing_world) == 0
    saved = ada.post(url(billing_world, "nouveau/"), {**form, "code": "G", "valid_to": ""})
    assert saved.status_code == 302
    tenancy.activate(billing_world.practice_a.pk)
    assert PracticeTariff.objects.get().amount == 31


def test_a_secretary_reads_the_schedule_but_cannot_change_it(
    client: Client, billing_world: World
) -> None:
    sam = login(client, billing_world.sam)
    listing = sam.get(url(billing_world))
    assert listing.status_code == 200
    assert "AMI" in text(listing)
    assert url(billing_world, "nouveau/") not in text(listing)
    assert sam.get(url(billing_world, "nouveau/")).status_code == 403
    assert sam.post(url(billing_world, "nouveau/"), {"code": "G"}).status_code == 403
    upload = SimpleUploadedFile("tarifs.csv", NOVEMBER_FILE, content_type="text/csv")
    assert sam.post(url(billing_world, "import/"), {"file": upload}).status_code == 403
    assert stored(billing_world) == 0


def test_the_api_lists_adds_and_imports_for_an_administrator_only(
    client: Client, billing_world: World
) -> None:
    ada = api_for(client, billing_world, admin_of_a(billing_world))
    dry = ada.send("post", "fee-schedule/import/", {"csv": NOVEMBER_FILE.decode()})
    assert dry.status_code == 200, dry.content
    assert (dry.json()["applied"], dry.json()["count"]) == (False, 2)
    assert stored(billing_world) == 0
    bad = ada.send("post", "fee-schedule/import/", {"csv": HEADER + "FR,NGAP,G\n", "apply": True})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["file"][0].startswith("Line 2") or bad.json()["error"][
        "fields"
    ]["file"][0].startswith("Ligne 2")
    added = ada.send(
        "post",
        "fee-schedule/",
        {
            "nomenclature": "NGAP",
            "code": "g",
            "label": "Consultation",
            "valid_from": "2026-01-01",
            "amount": "31.00",
        },
    )
    assert added.status_code == 201, added.content
    listed = ada.get("fee-schedule/?date=2026-02-01").json()
    g = [row for row in listed if row["code"] == "G"]
    assert [(row["amount"], row["own"]) for row in g] == [("31.00", True)]
    assert any(row["code"] == "AMI" and not row["own"] for row in listed)
    sam = api_for(client, billing_world, billing_world.sam)
    assert sam.get("fee-schedule/").status_code == 200
    refused = sam.send(
        "post", "fee-schedule/import/", {"csv": NOVEMBER_FILE.decode(), "apply": True}
    )
    assert refused.status_code == 403
    assert stored(billing_world) == 1


def test_the_desk_bills_a_nurses_home_visit_typed_as_on_the_care_sheet(
    client: Client, billing_world: World
) -> None:
    tenancy.activate(billing_world.practice_a.pk)
    nina = PersonFactory(username="nina", full_name="Nina Noël", profession="nurse")
    MembershipFactory(practice=billing_world.practice_a, person=nina, role="practitioner")
    tenancy.activate(None)
    sam = login(client, billing_world.sam)
    address = (
        f"/p/{billing_world.practice_a.slug}/patients/{billing_world.paul.pk}/facturation/nouvelle/"
    )
    form = {"issuer": nina.pk, "service_date": "2026-10-05", "has_complementary": "on"}
    refused = sam.post(address, {**form, "codes": "AMI4 IK*12"})
    assert refused.status_code == 400
    assert "IK" in text(refused) and "IFD" in text(refused)
    done = sam.post(address, {**form, "codes": "AMI4 IFD IK*12"})
    assert done.status_code == 302, text(done)[:2000]
    invoice = text(sam.get(done["Location"]))
    assert "AMI 4" in invoice
    assert "19,55" in invoice or "19.55" in invoice
