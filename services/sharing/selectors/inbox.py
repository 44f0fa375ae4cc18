"""Reading what this practice received and sent: the inbox, one share opened, the
outbox."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from core import openpgp
from core.access.policy import Actor
from core.access.services import AccessDenied
from core.audit.services import Outcome, record_event
from core.practices.models import Practice
from sharing.envelope import open_sealed
from sharing.models import InboxMessage, OutboxMessage
from sharing.selectors.directory import node_name


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
    it carries a patient's clinical data."""
    if "practitioner" not in actor.roles:
        # A share carries a patient's clinical data: the refusal is audited like any other.
        record_event(
            "access.denied",
            outcome=Outcome.DENIED,
            actor=actor,
            category="clinical",
            reason="only practitioners open shared records",
            target=f"message:{message.message_id}",
        )
        raise AccessDenied.from_reason(_("Only practitioners open shared records."))


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
