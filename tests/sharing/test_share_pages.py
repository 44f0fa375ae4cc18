"""The exchange from the pages, on one node: the sender sees each share's state and
receipt on the patient's shares page; the recipient opens a share from the inbox and
declines it with a reason that travels back; a withdrawn consent cancels the pending
share and refuses the next one. Two live nodes: tests/sharing/test_two_nodes.py."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils import timezone

from core import tenancy
from core.access import choices
from core.access.models import SharingConsent
from core.access.services import AccessDenied
from core.access.sharing import Recipient
from core.accounts.models import Person
from records import access
from records.selectors import active_entries, patient_of_practice, possible_duplicates
from records.services import document_upload
from sharing import selectors, services
from sharing.models import ImportedResource, InboxMessage, OutboxMessage
from tests.adversarial.matrix.world import PDF_BYTES, _directory
from tests.factories import MembershipFactory, PatientFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login


@dataclass
class Exchange:
    world: World
    node: str
    consent_id: int

    def send(self) -> OutboxMessage:
        """Alice shares Paul's allergies and problems with practice B."""
        world = self.world
        message = services.share_send(
            actor=world.actor(world.alice),
            practice=world.practice_a,
            patient=world.paul,
            recipient=Recipient(self.node, world.practice_b.slug),
            categories=["allergies", "problems"],
        )
        tenancy.activate(None)
        return message

    def deliver(self, message: OutboxMessage) -> None:
        """What ``carnet exchange`` does over HTTP, without the network: the recipient's
        gateway keeps the message, the sender marks it delivered."""
        services.gateway_receive(message.sealed)
        tenancy.activate(message.practice_id)
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.DELIVERED, delivered_at=timezone.now()
        )
        tenancy.activate(None)

    def deliver_answers_to_a(self) -> None:
        """B's receipts reach A, whose worker applies them."""
        tenancy.activate(self.world.practice_b.pk)
        receipts = list(OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RECEIPT))
        for receipt in receipts:
            self.deliver(receipt)
        with tenancy.practice_context(self.world.practice_a.pk):
            services.process_notices()
        tenancy.activate(None)

    def received(self, message_id: str) -> InboxMessage:
        tenancy.activate(self.world.practice_b.pk)
        found = InboxMessage.objects.get(message_id=message_id)
        tenancy.activate(None)
        return found


@pytest.fixture
def exchange(world: World) -> Exchange:
    _directory(world.practice_a)
    _directory(world.practice_b)
    node = selectors.node_name()
    consent = choices.consent_give(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        grantee_node=node,
        grantee_practice=world.practice_b.slug,
        categories=["allergies", "problems", "letters"],
        source="formulaire signé n° 3",
        valid_from=timezone.localdate(),
    )
    tenancy.activate(None)
    return Exchange(world, node, consent.pk)


def b_secretary(world: World) -> Person:
    person = PersonFactory(username="berenice", full_name="Bérénice Bureau")
    tenancy.activate(world.practice_b.pk)
    MembershipFactory(practice=world.practice_b, person=person, role="secretary")
    tenancy.activate(None)
    return person


def shares_page(world: World) -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/partages/"


def inbox_page(world: World, message_id: str = "") -> str:
    return f"/p/{world.practice_b.slug}/partages/recus/" + (f"{message_id}/" if message_id else "")


def test_a_declined_share_comes_back_with_its_reason_on_the_senders_page(
    exchange: Exchange, world: World
) -> None:
    sent = exchange.send()
    alice = login(Client(), world.alice)
    page = alice.get(shares_page(world))
    assert page.status_code == 200
    assert 'data-state="pending"' in page.content.decode()
    assert "Allergies" in page.content.decode()
    exchange.deliver(sent)
    assert 'data-state="delivered"' in alice.get(shares_page(world)).content.decode()

    charlie = login(Client(), world.charlie)
    assert sent.message_id in charlie.get(inbox_page(world)).content.decode()
    opened = charlie.get(inbox_page(world, sent.message_id))
    assert opened.status_code == 200
    assert "DUPONT Paul" in opened.content.decode()
    # A decline needs a reason, and an empty one changes nothing.
    empty = charlie.post(inbox_page(world, sent.message_id) + "refuser/", {"reason": "  "})
    assert empty.status_code == 400
    assert exchange.received(sent.message_id).status == InboxMessage.Status.RECEIVED
    declined = charlie.post(
        inbox_page(world, sent.message_id) + "refuser/",
        {"reason": "Patient inconnu de notre cabinet"},
    )
    assert declined.status_code == 302
    received = exchange.received(sent.message_id)
    assert received.status == InboxMessage.Status.REJECTED
    assert received.decline_reason == "Patient inconnu de notre cabinet"
    # Declined once: no second answer.
    again = charlie.post(inbox_page(world, sent.message_id) + "refuser/", {"reason": "encore"})
    assert again.status_code == 400

    exchange.deliver_answers_to_a()
    page = alice.get(shares_page(world)).content.decode()
    assert 'data-state="declined"' in page
    assert "Patient inconnu de notre cabinet" in page and "Dr Charlie Caron" in page
    tenancy.activate(world.practice_a.pk)
    assert OutboxMessage.objects.get(pk=sent.pk).answer_reason == "Patient inconnu de notre cabinet"


def test_only_a_practitioner_of_the_addressee_opens_or_declines_a_share(
    exchange: Exchange, world: World
) -> None:
    sent = exchange.send()
    exchange.deliver(sent)
    desk = login(Client(), b_secretary(world))
    assert desk.get(inbox_page(world, sent.message_id)).status_code == 403
    refused = desk.post(inbox_page(world, sent.message_id) + "refuser/", {"reason": "non"})
    assert refused.status_code == 403
    # Practice A cannot reach B's inbox, even with the message's id.
    alice = login(Client(), world.alice)
    url = f"/p/{world.practice_a.slug}/partages/recus/{sent.message_id}/"
    assert alice.get(url).status_code == 404
    assert alice.post(url + "refuser/", {"reason": "non"}).status_code == 404
    assert exchange.received(sent.message_id).status == InboxMessage.Status.RECEIVED
    tenancy.activate(world.practice_b.pk)
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RECEIPT).exists()


def test_the_shares_page_is_for_who_may_share_the_record(exchange: Exchange, world: World) -> None:
    exchange.send()
    for person, status in ((world.sam, 403), (world.charlie, 403)):
        assert login(Client(), person).get(shares_page(world)).status_code in (status, 404)


def test_withdrawing_the_consent_cancels_the_pending_share_and_refuses_the_next(
    exchange: Exchange, world: World
) -> None:
    pending = exchange.send()
    sam = login(Client(), world.sam)
    consents = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/"
    assert sam.post(f"{consents}{exchange.consent_id}/retirer/").status_code == 302
    tenancy.activate(world.practice_a.pk)
    assert OutboxMessage.objects.get(pk=pending.pk).status == OutboxMessage.Status.CANCELLED
    page = login(Client(), world.alice).get(shares_page(world)).content.decode()
    assert 'data-state="cancelled"' in page and "Révoqué" in page
    with pytest.raises(AccessDenied):
        exchange.send()


def upload_report(world: World) -> int:
    """A PDF report in Paul's record, uploaded by Alice."""
    document = document_upload(
        actor=world.actor(world.alice),
        access=access.access_for(world.paul),
        upload=io.BytesIO(PDF_BYTES),
        size=len(PDF_BYTES),
        title="Compte rendu d\u2019échographie",
        kind="report",
        document_date=timezone.localdate(),
    )
    tenancy.activate(None)
    return int(document.pk)


def letters_in_record(world: World) -> list[str]:
    tenancy.activate(world.practice_a.pk)
    titles = [d.title for d in active_entries("document", world.paul) if d.kind == "letter"]
    tenancy.activate(None)
    return titles


def test_a_practitioner_sends_a_referral_letter_and_a_document_from_the_chart(
    exchange: Exchange, world: World
) -> None:
    report = upload_report(world)
    alice = login(Client(), world.alice)
    form = alice.get(shares_page(world)).content.decode()
    recipient = f"{exchange.node}/{world.practice_b.slug}/"
    assert f'value="{recipient}"' in form and "Compte rendu" in form
    sent = alice.post(
        shares_page(world),
        {
            "recipient": recipient,
            "categories": ["allergies"],
            "letter": "Cher confrère, je vous adresse M. Dupont pour avis cardiologique.",
            "documents": [str(report)],
        },
    )
    assert sent.status_code == 302
    assert letters_in_record(world) == ["Lettre d\u2019adressage"]
    tenancy.activate(world.practice_a.pk)
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SHARE)
    assert message.summary["categories"] == {"letters": 2, "allergies": 0}
    tenancy.activate(None)
    page = alice.get(shares_page(world)).content.decode()
    assert "Courriers (2)" in page

    exchange.deliver(message)
    charlie = login(Client(), world.charlie)
    opened = charlie.get(inbox_page(world, message.message_id)).content.decode()
    assert "Courriers et documents" in opened and "Compte rendu" in opened
    tenancy.activate(world.practice_b.pk, world.charlie.pk)
    received = InboxMessage.objects.get(message_id=message.message_id)
    bundle = selectors.share_preview(
        actor=world.actor(world.charlie, world.practice_b), message=received
    )
    attachments = [
        e["resource"]["content"][0]["attachment"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference"
    ]
    assert sorted(a["contentType"] for a in attachments) == ["application/pdf"] * 2
    assert all(base64.b64decode(a["data"]).startswith(b"%PDF") for a in attachments)


def test_a_letter_the_consent_does_not_cover_is_neither_sent_nor_kept(
    exchange: Exchange, world: World
) -> None:
    tenancy.activate(world.practice_a.pk)
    SharingConsent.objects.filter(pk=exchange.consent_id).update(categories=["allergies"])
    tenancy.activate(None)
    alice = login(Client(), world.alice)
    response = alice.post(
        shares_page(world),
        {
            "recipient": f"{exchange.node}/{world.practice_b.slug}/",
            "categories": ["allergies"],
            "letter": "Cher confrère",
        },
    )
    assert response.status_code == 400
    assert "ne couvre pas les courriers" in response.content.decode()
    assert letters_in_record(world) == []
    tenancy.activate(world.practice_a.pk)
    assert not OutboxMessage.objects.exists()


def test_nothing_is_sent_without_a_practitioner_or_an_active_consent(
    exchange: Exchange, world: World
) -> None:
    body = {"recipient": f"{exchange.node}/{world.practice_b.slug}/", "categories": ["allergies"]}
    sam = login(Client(), world.sam)
    assert sam.post(shares_page(world), body).status_code == 403
    consent = SharingConsent.objects.get(pk=exchange.consent_id)
    choices.consent_revoke(actor=world.actor(world.sam), consent=consent)
    tenancy.activate(None)
    alice = login(Client(), world.alice)
    form = alice.get(shares_page(world)).content.decode()
    assert 'data-testid="no-consent"' in form
    assert alice.post(shares_page(world), body).status_code == 400
    tenancy.activate(world.practice_a.pk)
    assert not OutboxMessage.objects.exists()


def paul_at_b(world: World) -> int:
    """Practice B already knows Paul (same name, same birth date): a possible match."""
    tenancy.activate(world.practice_b.pk)
    known = PatientFactory(
        practice=world.practice_b, gp=world.charlie, birth_name="Dupont", given_names="Paul"
    )
    tenancy.activate(None)
    return int(known.pk)


def sent_with_letter(exchange: Exchange, world: World, alice: Client) -> OutboxMessage:
    alice.post(
        shares_page(world),
        {
            "recipient": f"{exchange.node}/{world.practice_b.slug}/",
            "categories": ["allergies"],
            "letter": "Cher confrère, je vous adresse M. Dupont.",
        },
    )
    tenancy.activate(world.practice_a.pk)
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SHARE)
    tenancy.activate(None)
    exchange.deliver(message)
    return message


def test_the_recipient_matches_an_existing_patient_and_accepts_the_receipt_goes_back(
    exchange: Exchange, world: World
) -> None:
    known = paul_at_b(world)
    alice = login(Client(), world.alice)
    sent = sent_with_letter(exchange, world, alice)
    charlie = login(Client(), world.charlie)
    page = charlie.get(inbox_page(world, sent.message_id)).content.decode()
    assert f'value="{known}"' in page and 'value="new"' in page
    # No choice made for the practitioner: without one, nothing is imported.
    assert charlie.post(inbox_page(world, sent.message_id) + "accepter/", {}).status_code == 400
    assert exchange.received(sent.message_id).status == InboxMessage.Status.RECEIVED
    accepted = charlie.post(inbox_page(world, sent.message_id) + "accepter/", {"match": known})
    assert accepted.status_code == 302
    assert accepted["Location"].endswith(f"/patients/{known}/")
    received = exchange.received(sent.message_id)
    assert (received.status, received.patient_id) == (InboxMessage.Status.ACCEPTED, known)
    # The letter entered Paul's record at B, and remembers where it came from.
    tenancy.activate(world.practice_b.pk)
    letters = ImportedResource.objects.filter(resource_type="DocumentReference")
    assert [r.source.split(":")[0] for r in letters] == ["share"]
    assert sent.message_id in letters[0].source

    at_b = patient_of_practice(known)
    titles = [d.title for d in active_entries("document", at_b)]
    assert titles == ["Lettre d\u2019adressage"]
    tenancy.activate(None)

    exchange.deliver_answers_to_a()
    page = alice.get(shares_page(world)).content.decode()
    assert 'data-state="acknowledged"' in page and "Dr Charlie Caron" in page


def test_a_new_patient_is_registered_only_when_the_practitioner_says_so(
    exchange: Exchange, world: World
) -> None:
    paul_at_b(world)
    sent = sent_with_letter(exchange, world, login(Client(), world.alice))
    charlie = login(Client(), world.charlie)
    response = charlie.post(inbox_page(world, sent.message_id) + "accepter/", {"match": "new"})
    assert response.status_code == 302
    received = exchange.received(sent.message_id)
    tenancy.activate(world.practice_b.pk)
    dupont = possible_duplicates(
        birth_name="Dupont", given_names="Paul", birth_date=world.paul.birth_date
    )
    # Two records now: the one chosen as new, and the one that was there; none merged.
    assert len(dupont) == 2 and received.patient_id in [p.pk for p in dupont]


def test_only_a_practitioner_of_the_addressee_accepts_and_a_revoked_share_is_closed(
    exchange: Exchange, world: World
) -> None:
    alice = login(Client(), world.alice)
    sent = sent_with_letter(exchange, world, alice)
    desk = login(Client(), b_secretary(world))
    url = inbox_page(world, sent.message_id) + "accepter/"
    assert desk.post(url, {"match": "new"}).status_code == 403
    other = f"/p/{world.practice_a.slug}/partages/recus/{sent.message_id}/accepter/"
    assert alice.post(other, {"match": "new"}).status_code == 404
    assert exchange.received(sent.message_id).status == InboxMessage.Status.RECEIVED
    # The patient withdraws the consent: the notice reaches B and closes the share.
    sam = login(Client(), world.sam)
    consents = f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/"
    assert sam.post(f"{consents}{exchange.consent_id}/retirer/").status_code == 302
    tenancy.activate(world.practice_a.pk)
    notice = OutboxMessage.objects.get(kind=OutboxMessage.Kind.REVOCATION)
    tenancy.activate(None)
    services.gateway_receive(notice.sealed)
    with tenancy.practice_context(world.practice_b.pk):
        services.process_notices()
    tenancy.activate(None)
    assert exchange.received(sent.message_id).status == InboxMessage.Status.REVOKED
    charlie = login(Client(), world.charlie)
    page = charlie.get(inbox_page(world, sent.message_id)).content.decode()
    assert 'name="match"' not in page
    assert charlie.post(url, {"match": "new"}).status_code == 400


def english_left(html: str) -> list[str]:
    """Messages of the catalogue shown untranslated on a French page."""
    from django.utils.translation import trans_real

    catalog = trans_real.translation("fr")._catalog  # type: ignore[attr-defined]
    text = html.replace("&#x27;", "'")
    return sorted(
        {
            msgid
            for msgid, msgstr in catalog.items()
            if isinstance(msgid, str)
            and msgid != msgstr
            and " " in msgid
            and len(msgid) >= 12
            and "%" not in msgid
            and msgid in text
        }
    )


def test_the_sharing_pages_are_french_only(exchange: Exchange, world: World) -> None:
    report = upload_report(world)
    known = paul_at_b(world)
    alice = login(Client(), world.alice)
    assert (
        alice.post(
            shares_page(world),
            {
                "recipient": f"{exchange.node}/{world.practice_b.slug}/",
                "categories": ["allergies"],
                "letter": "Cher confrère",
                "documents": [str(report)],
            },
        ).status_code
        == 302
    )
    tenancy.activate(world.practice_a.pk)
    sent = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SHARE)
    tenancy.activate(None)
    exchange.deliver(sent)
    charlie = login(Client(), world.charlie)
    pages = {
        "shares": alice.get(shares_page(world)),
        "consents": alice.get(
            f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/consentements/"
        ),
        "partners": alice.get(f"/p/{world.practice_a.slug}/partenaires/"),
        "inbox": charlie.get(inbox_page(world)),
        "share": charlie.get(inbox_page(world, sent.message_id)),
        "no choice": charlie.post(inbox_page(world, sent.message_id) + "accepter/", {}),
        "no reason": charlie.post(inbox_page(world, sent.message_id) + "refuser/", {}),
    }
    assert f'value="{known}"' in pages["share"].content.decode()
    # The check sees an untranslated message (it can fail).
    assert english_left("<h2>Decline this share</h2>") == ["Decline this share"]
    for name, response in pages.items():
        assert response.status_code in (200, 400), name
        assert english_left(response.content.decode()) == [], name


def test_single_entries_can_be_chosen_and_only_they_leave(exchange: Exchange, world: World) -> None:
    """Two problems in the record, one chosen: the share holds that one alone; an entry
    of a part the consent does not cover is refused like its part."""
    from records.models import Immunization, Problem

    tenancy.activate(world.practice_a.pk)
    common = {"practice": world.practice_a, "patient": world.paul, "author": world.alice}
    asthma = Problem.objects.create(**common, code="J45", label="Asthme")
    Problem.objects.create(**common, code="I10", label="Hypertension essentielle")
    vaccine = Immunization.objects.create(
        **common, vaccine="REPEVAX", vaccinated_on=timezone.localdate()
    )
    tenancy.activate(None)
    alice = login(Client(), world.alice)
    form = alice.get(shares_page(world)).content.decode()
    assert f'value="problems:{asthma.pk}"' in form and "Hypertension essentielle" in form
    recipient = f"{exchange.node}/{world.practice_b.slug}/"
    sent = alice.post(
        shares_page(world), {"recipient": recipient, "entries": [f"problems:{asthma.pk}"]}
    )
    assert sent.status_code == 302
    tenancy.activate(world.practice_a.pk)
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.SHARE)
    assert message.summary["categories"] == {"problems": 1}
    tenancy.activate(None)
    exchange.deliver(message)
    tenancy.activate(world.practice_b.pk, world.charlie.pk)
    received = InboxMessage.objects.get(message_id=message.message_id)
    bundle = selectors.share_preview(
        actor=world.actor(world.charlie, world.practice_b), message=received
    )
    conditions = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"
    ]
    assert [c["code"]["coding"][0]["code"] for c in conditions] == ["J45"]
    tenancy.activate(None)
    refused = alice.post(
        shares_page(world),
        {"recipient": recipient, "entries": [f"immunizations:{vaccine.pk}"]},
    )
    assert refused.status_code == 403  # no consent covers vaccinations: refused, audited
    tenancy.activate(world.practice_a.pk)
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SHARE).count() == 1


@pytest.mark.parametrize(
    ("entries", "valid"),
    [
        (["problems:12", "allergies:3"], True),
        (["problems:abc"], False),
        (["letters:1"], False),  # letters travel as documents
        (["identity:1"], False),
        (["problems:0"], False),
        (["problems:" + "9" * 30], False),
    ],
)
def test_the_api_takes_single_entries_by_part_and_id(entries: list[str], valid: bool) -> None:
    from sharing.api import ShareInput

    data = ShareInput(data={"node": "n", "practice": "p", "entries": entries})
    assert data.is_valid() is valid, data.errors
