"""Sending a share, receiving it at the gateway, accepting it into the record, receipts
and revocation notices.

Nothing leaves without a consent: what may leave is decided by
``sharing.selectors.content.share_content`` (each category of the patient summary with
``core.access.sharing.may_share``, each sensitive entry with its label). The bundle is a
FHIR R4 document, sealed for the recipient practice (``sharing.envelope``), kept in the
outbox and delivered with retries.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import openpgp, tenancy
from core.access.models import SharingConsent
from core.access.policy import Action, Actor, Category
from core.access.services import AccessDenied
from core.access.sharing import Recipient
from core.audit.services import Outcome, record_event
from core.practices.models import Practice
from records import access as records_access
from records.selectors import Patient, patient_of_practice
from records.services import letter_write
from sharing import keys
from sharing.envelope import Address, EnvelopeError, new_envelope, open_sealed, seal
from sharing.models import DirectoryEntry, InboxMessage, OutboxMessage
from sharing.selectors.content import share_content
from sharing.selectors.directory import node_name
from sharing.selectors.inbox import open_own, require_share_reader, share_preview

MAX_BACKOFF = timedelta(hours=6)


@transaction.atomic
def share_send(
    *,
    actor: Actor,
    practice: Practice,
    patient: Patient,
    recipient: Recipient,
    categories: list[str],
    letter: str = "",
    documents: list[int] | None = None,
    entries: list[str] | None = None,
) -> OutboxMessage:
    """Send what the patient's consent covers: the categories of the summary, entries
    chosen one by one, the documents chosen and a referral letter written now (kept in
    the sender's record as a letter, and sent as PDF). All or nothing: a refusal stores
    nothing."""
    records_access.require(actor, Action.SHARE, Category.CLINICAL, patient)
    listing = DirectoryEntry.objects.filter(node=recipient.node, slug=recipient.practice).first()
    if listing is None:
        raise ValidationError(
            {"recipient": _("This practice is not in the cooperative's directory.")}
        )
    documents = list(documents or [])
    if letter.strip():
        written = letter_write(
            actor=actor,
            access=records_access.access_for(patient),
            title=_("Referral letter"),
            recipient=listing.name,
            body=letter,
            document_date=timezone.localdate(),
        )
        documents.append(written.pk)
    content = share_content(
        actor=actor,
        patient=patient,
        recipient=recipient,
        categories=categories,
        documents=documents,
        entries=entries,
    )
    if documents and content.consent_ids and "letters" in content.summary["refused"]:
        # Rolled back with the letter just written: nothing half-sent.
        raise ValidationError(
            {"documents": _("The patient's consent does not cover letters and documents.")}
        )
    if not content.consent_ids:
        record_event(
            "share.refused",
            outcome=Outcome.DENIED,
            actor=actor,
            patient_id=patient.pk,
            category="clinical",
            purpose="care",
            reason="no consent covers this share",
            target=f"practice:{recipient.node}/{recipient.practice}",
            details={"categories": categories},
        )
        raise AccessDenied.from_reason(_("No consent of the patient covers this share."))
    sender = Address(node_name(), practice.slug)
    to = Address(recipient.node, recipient.practice, recipient.practitioner)
    consent_id = min(content.consent_ids)
    envelope = new_envelope(
        kind="share",
        sender=sender,
        recipient=to,
        payload={"bundle": content.bundle, "consent_id": consent_id},
    )
    signer = keys.ensure_practice_key(node_name(), practice.slug, practice.name)
    sealed = seal(
        openpgp.node_keyring().gpg,
        envelope,
        signer=signer,
        recipient_fingerprint=listing.fingerprints[0],
    )
    message = OutboxMessage.objects.create(
        practice=practice,
        message_id=envelope.message_id,
        kind=OutboxMessage.Kind.SHARE,
        recipient_node=to.node,
        recipient_practice=to.practice,
        recipient_practitioner=to.practitioner,
        gateway=listing.gateway,
        sealed=sealed,
        patient_id=patient.pk,
        consent_id=consent_id,
        summary=content.summary,
        created_by_id=actor.person_id,
    )
    record_event(
        "share.send",
        actor=actor,
        patient_id=patient.pk,
        category="clinical",
        purpose="care",
        target=f"practice:{to.node}/{to.practice}",
        details={
            "message": envelope.message_id,
            "consents": sorted(content.consent_ids),
            **content.summary,
        },
    )
    return message


# --- delivery (outbox -> remote gateway) -------------------------------------------------


def deliver_pending(*, limit: int = 50, timeout: float = 10.0) -> dict[str, int]:
    """Send what is due; retry later with exponential backoff on network errors."""
    counts = {"delivered": 0, "failed": 0, "retry": 0}
    now = timezone.now()
    due = list(
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .order_by("created_at")[:limit]
    )
    for message in due:
        outcome = _post(message, timeout)
        counts[outcome] += 1
    return counts


def _post(message: OutboxMessage, timeout: float) -> str:
    url = message.gateway.rstrip("/") + "/federation/v1/messages"
    request = urllib.request.Request(  # noqa: S310 - the gateway URL comes from the signed directory
        url,
        data=message.sealed.encode(),
        method="POST",
        headers={"Content-Type": "application/pgp-encrypted", "User-Agent": "Carnet"},
    )
    message.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            response.read()
        message.status = OutboxMessage.Status.DELIVERED
        message.delivered_at = timezone.now()
        message.last_error = ""
        outcome = "delivered"
    except urllib.error.HTTPError as error:
        body = error.read()[:500].decode("utf-8", "replace")
        if 400 <= error.code < 500:
            message.status = OutboxMessage.Status.FAILED
            message.last_error = f"{error.code} {body}"[:300]
            outcome = "failed"
        else:
            outcome = _retry(message, f"{error.code} {body}")
    except OSError as error:
        outcome = _retry(message, str(error))
    message.save()
    record_event(
        f"message.{outcome}",
        practice_id=message.practice_id,
        patient_id=message.patient_id,
        target=f"message:{message.message_id}",
        details={"kind": message.kind, "attempts": message.attempts, "error": message.last_error},
    )
    return outcome


def _retry(message: OutboxMessage, error: str) -> str:
    delay = min(timedelta(seconds=30 * 2 ** min(message.attempts, 12)), MAX_BACKOFF)
    message.next_attempt_at = timezone.now() + delay
    message.last_error = error[:300]
    return "retry"


# --- the gateway (remote sender -> inbox) ---------------------------------------------------


def gateway_receive(sealed: str) -> InboxMessage:
    """Check a message and keep it, still encrypted, in the addressee practice's inbox.
    Raises EnvelopeError with a distinct code when the message is refused."""
    local = {(node_name(), slug): pk for pk, slug in Practice.objects.values_list("pk", "slug")}
    senders: dict[str, tuple[str, str]] = {}
    for entry in DirectoryEntry.objects.all():
        for fingerprint in entry.fingerprints:
            senders[fingerprint] = (entry.node, entry.slug)
    opened = open_sealed(
        openpgp.node_keyring().gpg, sealed, known_senders=senders, local_practices=set(local)
    )
    envelope = opened.envelope
    practice_id = local[(envelope.recipient.node, envelope.recipient.practice)]
    with tenancy.practice_context(practice_id):
        if InboxMessage.objects.filter(message_id=envelope.message_id).exists():
            record_event(
                "message.replayed",
                outcome=Outcome.DENIED,
                target=f"message:{envelope.message_id}",
                details={"from": f"{envelope.sender.node}/{envelope.sender.practice}"},
            )
            raise EnvelopeError("replayed", "this message was already received")
        message = InboxMessage.objects.create(
            practice_id=practice_id,
            message_id=envelope.message_id,
            kind=envelope.kind,
            sender_node=envelope.sender.node,
            sender_practice=envelope.sender.practice,
            signer_fingerprint=opened.signer_fingerprint,
            sealed=sealed,
            expires_at=envelope.expires_at,
        )
        record_event(
            "message.received",
            target=f"message:{envelope.message_id}",
            details={
                "kind": envelope.kind,
                "from": f"{envelope.sender.node}/{envelope.sender.practice}",
            },
        )
    return message


def refusal_code(error: EnvelopeError) -> tuple[int, str]:
    status = {
        "undecryptable": 400,
        "tampered": 400,
        "unknown_sender": 403,
        "expired": 400,
        "misaddressed": 404,
        "replayed": 409,
    }.get(error.code, 400)
    return status, error.code


# --- receiving side, in the practice ------------------------------------------------------


def processed_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@transaction.atomic
def share_accept(
    *,
    actor: Actor,
    practice: Practice,
    message: InboxMessage,
    patient: Patient | None = None,
    confirm_new: bool = False,
) -> Patient:
    """Bring a received share into the record (into ``patient``, or a new patient made
    from the shared identity), keep where each entry came from, and send a receipt.
    A new patient close to an existing one stops the import, unless the practitioner
    saw the possible matches and chose a new record (``confirm_new``)."""
    if message.status != InboxMessage.Status.RECEIVED:
        raise ValidationError(
            _("This share cannot be accepted any more (%(status)s).")
            % {"status": message.get_status_display()}
        )
    bundle = share_preview(actor=actor, message=message)
    source = f"share:{message.sender_node}/{message.sender_practice}:{message.message_id}"
    target = import_shared_bundle(
        actor=actor,
        practice=practice,
        bundle=bundle,
        source=source,
        patient=patient,
        confirm_new=confirm_new and patient is None,
    )
    message.status = InboxMessage.Status.ACCEPTED
    message.handled_by_id = actor.person_id
    message.handled_at = timezone.now()
    message.patient_id = target.pk
    message.save(update_fields=["status", "handled_by", "handled_at", "patient_id"])
    record_event(
        "share.accept",
        actor=actor,
        patient_id=target.pk,
        category="clinical",
        target=f"message:{message.message_id}",
        details={"from": f"{message.sender_node}/{message.sender_practice}"},
    )
    _send_notice(
        practice=practice,
        to=Address(message.sender_node, message.sender_practice),
        kind=OutboxMessage.Kind.RECEIPT,
        payload={
            "receipt_for": message.message_id,
            "status": "accepted",
            "by": _person_name(actor),
        },
        actor=actor,
    )
    return target


MAX_REASON = 500


@transaction.atomic
def share_decline(
    *, actor: Actor, practice: Practice, message: InboxMessage, reason: str
) -> InboxMessage:
    """Decline a received share: nothing enters the record, and the reason travels back
    to the sender in the receipt."""
    require_share_reader(actor, message)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the share is declined: the sender reads it.")})
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {
                "reason": _("The reason is too long (%(max)s characters at most).")
                % {"max": MAX_REASON}
            }
        )
    if message.status != InboxMessage.Status.RECEIVED:
        raise ValidationError(
            _("This share cannot be declined any more (%(status)s).")
            % {"status": message.get_status_display()}
        )
    message.status = InboxMessage.Status.REJECTED
    message.handled_by_id = actor.person_id
    message.handled_at = timezone.now()
    message.decline_reason = reason
    message.save(update_fields=["status", "handled_by", "handled_at", "decline_reason"])
    record_event(
        "share.decline",
        actor=actor,
        target=f"message:{message.message_id}",
        details={"from": f"{message.sender_node}/{message.sender_practice}"},
    )
    _send_notice(
        practice=practice,
        to=Address(message.sender_node, message.sender_practice),
        kind=OutboxMessage.Kind.RECEIPT,
        payload={
            "receipt_for": message.message_id,
            "status": "declined",
            "reason": reason,
            "by": _person_name(actor),
        },
        actor=actor,
    )
    return message


def _person_name(actor: Actor) -> str:
    from core.accounts.models import Person

    person = Person.objects.filter(pk=actor.person_id).first()
    return person.full_name if person else ""


def import_shared_bundle(
    *,
    actor: Actor,
    practice: Practice,
    bundle: dict[str, Any],
    source: str,
    patient: Patient | None,
    confirm_new: bool = False,
) -> Patient:
    """The shared resources enter the record through the FHIR importer (hence through the
    records services, the policy and the audit trail), remembered with their provenance."""
    from core.accounts.models import Person
    from sharing.fhir.importer import FhirImportError, import_bundle
    from sharing.models import ImportedResource

    shared_patient = next(
        (
            e["resource"]
            for e in bundle.get("entry", [])
            if e["resource"].get("resourceType") == "Patient"
        ),
        None,
    )
    if shared_patient is None:
        raise ValidationError(_("The share names no patient."))
    if patient is not None:
        ImportedResource.objects.get_or_create(
            practice=practice,
            resource_type="Patient",
            resource_id=shared_patient["id"],
            defaults={"source": source[:200], "target_type": "patient", "target_id": patient.pk},
        )
    try:
        import_bundle(
            actor=actor,
            practice=practice,
            path_or_dict={**bundle, "meta": {"source": source[:200]}},
            gp=Person.objects.get(pk=actor.person_id),
            confirm_not_duplicate=confirm_new,
        )
    except FhirImportError as error:
        # e.g. the patient may already be here: the practitioner chooses the record.
        raise ValidationError({"patient": [error.reason]}, code=error.code) from error
    mapped = ImportedResource.objects.get(
        practice=practice, resource_type="Patient", resource_id=shared_patient["id"]
    )
    target = patient_of_practice(mapped.target_id)
    if target is None:
        raise ValidationError(_("The share names no patient."))
    return target


def _send_notice(
    *, practice: Practice, to: Address, kind: str, payload: dict[str, Any], actor: Actor | None
) -> OutboxMessage | None:
    listing = DirectoryEntry.objects.filter(node=to.node, slug=to.practice).first()
    if listing is None:
        return None
    envelope = new_envelope(
        kind=kind, sender=Address(node_name(), practice.slug), recipient=to, payload=payload
    )
    signer = keys.ensure_practice_key(node_name(), practice.slug, practice.name)
    sealed = seal(
        openpgp.node_keyring().gpg,
        envelope,
        signer=signer,
        recipient_fingerprint=listing.fingerprints[0],
    )
    return OutboxMessage.objects.create(
        practice=practice,
        message_id=envelope.message_id,
        kind=kind,
        recipient_node=to.node,
        recipient_practice=to.practice,
        gateway=listing.gateway,
        sealed=sealed,
        summary=payload,
        created_by_id=actor.person_id if actor else None,
    )


@transaction.atomic
def consent_revoke_and_notify(*, actor: Actor, practice: Practice, consent: SharingConsent) -> int:
    """Revoke a consent: pending shares under it are cancelled, and recipients that
    received some get a revocation notice. Returns the number of shares cancelled."""
    from core.access.choices import consent_revoke

    consent_revoke(actor=actor, consent=consent)
    cancelled = OutboxMessage.objects.filter(
        consent_id=consent.pk, kind=OutboxMessage.Kind.SHARE, status=OutboxMessage.Status.PENDING
    ).update(status=OutboxMessage.Status.CANCELLED)
    delivered = OutboxMessage.objects.filter(
        consent_id=consent.pk,
        kind=OutboxMessage.Kind.SHARE,
        status__in=[OutboxMessage.Status.DELIVERED, OutboxMessage.Status.ACKNOWLEDGED],
    )
    by_recipient: dict[tuple[str, str], list[str]] = {}
    for message in delivered:
        by_recipient.setdefault((message.recipient_node, message.recipient_practice), []).append(
            message.message_id
        )
    for (node, slug), ids in by_recipient.items():
        _send_notice(
            practice=practice,
            to=Address(node, slug),
            kind=OutboxMessage.Kind.REVOCATION,
            payload={"revoked_messages": ids, "consent": consent.pk},
            actor=actor,
        )
    record_event(
        "share.revocation_sent",
        actor=actor,
        patient_id=consent.patient_id,
        target=f"consent:{consent.pk}",
        details={"cancelled": cancelled, "notified": len(by_recipient)},
    )
    return cancelled


def _apply_receipt(message: InboxMessage, payload: dict[str, Any]) -> None:
    """The recipient accepted or declined a share of ours: its state, who answered and
    why (a receipt only applies to a share sent to the practice that signed it)."""
    declined = payload.get("status") == "declined"
    share = OutboxMessage.objects.filter(
        message_id=str(payload.get("receipt_for", "")),
        kind=OutboxMessage.Kind.SHARE,
        recipient_node=message.sender_node,
        recipient_practice=message.sender_practice,
    ).first()
    if share is not None:
        share.status = (
            OutboxMessage.Status.DECLINED if declined else OutboxMessage.Status.ACKNOWLEDGED
        )
        share.acknowledged_at = timezone.now()
        share.answered_by = str(payload.get("by", ""))[:200]
        share.answer_reason = str(payload.get("reason", ""))[:MAX_REASON] if declined else ""
        share.save(update_fields=["status", "acknowledged_at", "answered_by", "answer_reason"])
    record_event(
        "share.declined" if declined else "share.receipt",
        patient_id=share.patient_id if share else None,
        target=f"message:{payload.get('receipt_for')}",
        details={"from": f"{message.sender_node}/{message.sender_practice}"},
    )


def process_notices() -> int:
    """Apply received receipts and revocation notices (run by the worker)."""
    done = 0
    for message in InboxMessage.objects.filter(
        kind__in=["receipt", "revocation"], status=InboxMessage.Status.RECEIVED
    ):
        envelope = open_own(message)["envelope"]
        payload = envelope.payload
        if message.kind == "receipt":
            _apply_receipt(message, payload)
        else:
            revoked = InboxMessage.objects.filter(
                message_id__in=payload.get("revoked_messages", []),
                sender_node=message.sender_node,
                sender_practice=message.sender_practice,
                status=InboxMessage.Status.RECEIVED,
            ).update(status=InboxMessage.Status.REVOKED)
            record_event(
                "share.revoked",
                target=f"consent:{payload.get('consent')}",
                details={
                    "from": f"{message.sender_node}/{message.sender_practice}",
                    "withdrawn_from_inbox": revoked,
                },
            )
        message.status = InboxMessage.Status.PROCESSED
        message.handled_at = timezone.now()
        message.save(update_fields=["status", "handled_at"])
        done += 1
    return done
