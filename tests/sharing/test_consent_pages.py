"""The consent pages: record from a paper form, print the receipt, withdraw."""

from __future__ import annotations

import html

from django.test import Client

from core import tenancy
from core.access.models import SharingConsent
from sharing.models import DirectoryEntry
from tests.fixtures import World
from tests.records.test_views import login, pdf_text


def paris_in_directory() -> None:
    DirectoryEntry.objects.create(
        node="paris",
        gateway="http://127.0.0.1:9/",
        slug="cabinet-p",
        name="Cabinet de Paris",
        fingerprints=["X"],
        public_keys="",
        directory_version=1,
    )


def test_a_secretary_records_prints_and_withdraws_a_consent(client: Client, world: World) -> None:
    paris_in_directory()
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/"
    assert sam.get(url).status_code == 200
    response = sam.post(
        url,
        {
            "recipient": "paris/cabinet-p",
            "categories": ["problems", "allergies"],
            "source": "formulaire signé n° 7",
        },
    )
    assert response.status_code == 302
    tenancy.activate(world.practice_a.pk)
    consent = SharingConsent.objects.get()
    assert consent.categories == ["allergies", "problems"] and consent.witness_id == world.sam.pk
    # The list says it in words: the partner's name, what is covered (no internal code).
    listed = sam.get(url).content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "Allergies et intolérances, Problèmes et antécédents" in html.unescape(listed)
    assert "allergies" not in listed and "cabinet-p " not in listed
    receipt = pdf_text(sam.get(f"{url}{consent.pk}/recu.pdf").content)
    assert "retirer ce consentement" in receipt and "DUPONT Paul" in receipt
    assert sam.post(f"{url}{consent.pk}/retirer/").status_code == 302
    consent.refresh_from_db()
    assert consent.status == "inactive"


def test_a_consent_without_categories_is_refused(client: Client, world: World) -> None:
    paris_in_directory()
    sam = login(client, world.sam)
    url = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/"
    assert sam.post(url, {"recipient": "paris/cabinet-p", "source": "x"}).status_code == 400
    tenancy.activate(world.practice_a.pk)
    assert not SharingConsent.objects.exists()


def test_the_global_refusal_blocks_a_covered_share_until_lifted(
    client: Client, world: World
) -> None:
    from django.utils import timezone

    from core.access import choices
    from core.access.sharing import Recipient
    from sharing import selectors
    from tests.records.test_api import api_for

    paris_in_directory()
    choices.consent_give(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        grantee_node="paris",
        grantee_practice="cabinet-p",
        categories=["problems"],
        source="form",
        valid_from=timezone.localdate(),
    )
    sam = api_for(client, world, world.sam)
    assert (
        sam.send("post", f"patients/{world.paul.pk}/refusal/", {"source": "oral, noté"}).status_code
        == 201
    )
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    content = selectors.share_content(
        actor=world.actor(world.alice),
        patient=world.paul,
        recipient=Recipient("paris", "cabinet-p"),
        categories=["problems"],
    )
    assert content.consent_ids == set() and content.summary["refused"] == ["problems"]
    with_refusal_lifted = sam.send("delete", f"patients/{world.paul.pk}/refusal/", {})
    assert with_refusal_lifted.status_code == 204
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    content = selectors.share_content(
        actor=world.actor(world.alice),
        patient=world.paul,
        recipient=Recipient("paris", "cabinet-p"),
        categories=["problems"],
    )
    assert content.consent_ids
