"""Reading what this practice received and sent: the inbox, one share opened, the
outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from core import openpgp
from core.access.policy import Action, Actor, Category, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event
from core.practices.models import Practice
from records import access as records_access
from records.selectors import Patient, patient_of_practice, possible_duplicates
from sharing.envelope import open_sealed
from sharing.models import ImportedResource, InboxMessage, OutboxMessage
from sharing.selectors.directory import node_name
from sharing.selectors.overview import share_overview


def open_own(message: InboxMessage) -> dict[str, Any]:
    """Decrypt a message already checked by the gateway (re-checked: defence in depth)."""
    senders = dict.fromkeys(
        [message.signer_fingerprint], (message.sender_node, message.sender_practice)
    )
    practice = Practice.objects.get(pk=message.practice_id)
    opened = open_sealed(
        openpgp.node_keyring().gpg,
        message.sealed,
        known_senders=senders,
        local_practices={(node_name(), practice.slug)},
        now=message.received_at,
    )
    return {"envelope": opened.envelope}


def inbox_pending() -> list[InboxMessage]:
    return list(
        InboxMessage.objects.filter(kind="share", status=InboxMessage.Status.RECEIVED).order_by(
            "received_at"
        )
    )


def require_share_reader(actor: Actor, message: InboxMessage) -> None:
    """Only a practitioner of the addressee practice opens, accepts or declines a share:
    it carries a patient's clinical data (the policy decides; a refusal is audited)."""
    require_practice(
        actor,
        PracticeAction.OPEN_SHARES,
        message.practice_id,
        target=f"message:{message.message_id}",
    )


def require_exchange_reader(actor: Actor, practice_id: int) -> None:
    """The lists of shares received and sent: the practice's staff (policy)."""
    require_practice(actor, PracticeAction.VIEW_EXCHANGE, practice_id, target="practice:exchange")


def share_bundle(*, actor: Actor, message: InboxMessage) -> dict[str, Any]:
    """The bundle, for a request that audits the opening elsewhere (accepting reads it
    again through ``share_preview``): one ``share.open`` per request."""
    require_share_reader(actor, message)
    return dict(open_own(message)["envelope"].payload["bundle"])


def share_preview(*, actor: Actor, message: InboxMessage) -> dict[str, Any]:
    require_share_reader(actor, message)
    envelope = open_own(message)["envelope"]
    record_event(
        "share.open",
        actor=actor,
        target=f"message:{message.message_id}",
        details={"from": f"{message.sender_node}/{message.sender_practice}"},
    )
    return envelope.payload["bundle"]


def inbox_shares(*, limit: int = 200) -> list[InboxMessage]:
    """The shares received, newest first."""
    return list(InboxMessage.objects.filter(kind="share").order_by("-received_at")[:limit])


def inbox_share(message_id: str) -> InboxMessage | None:
    """One share received by this practice, by its message id."""
    return InboxMessage.objects.filter(message_id=message_id, kind="share").first()


def patient_shares(*, patient_id: int, limit: int = 100) -> list[OutboxMessage]:
    """The shares this practice sent of one patient, newest first, with their state and
    receipt. The caller has asked the policy first."""
    return list(
        OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SHARE, patient_id=patient_id).order_by(
            "-created_at"
        )[:limit]
    )


def outbox_messages(*, limit: int = 200) -> list[OutboxMessage]:
    """What this practice sent or is sending, newest first."""
    return list(OutboxMessage.objects.order_by("-created_at")[:limit])


def match_candidates(*, actor: Actor, bundle: dict[str, Any]) -> list[tuple[Patient, bool]]:
    """The patients of this practice the shared person may be: the record an earlier
    share of the same person went into (``True``: already linked), then the possible
    duplicates (same NIR, or same birth date and a close name). Each one shown is an
    identity read, decided and audited; the practitioner chooses, nothing is merged."""
    shared: dict[str, Any] = next(
        (
            e["resource"]
            for e in bundle.get("entry") or []
            if (e.get("resource") or {}).get("resourceType") == "Patient"
        ),
        {},
    )
    found: list[tuple[Patient, bool]] = []
    linked = ImportedResource.objects.filter(
        resource_type="Patient", resource_id=str(shared.get("id", ""))
    ).first()
    if linked is not None:
        patient = patient_of_practice(linked.target_id)
        if patient is not None:
            found.append((patient, True))
    person = share_overview(bundle).person
    try:
        born = date.fromisoformat(person.birth_date) if person.birth_date else None
    except ValueError:
        born = None
    for patient in possible_duplicates(
        birth_name=person.family, given_names=person.given, birth_date=born
    ):
        if all(patient.pk != known.pk for known, _linked in found):
            found.append((patient, False))
    return [
        (patient, linked_before)
        for patient, linked_before in found
        if records_access.check(actor, Action.READ, Category.IDENTITY, patient).allowed
    ]
