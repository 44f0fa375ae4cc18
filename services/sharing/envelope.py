"""Sealing and opening the messages practices exchange.

A message is a JSON envelope (message id, kind, sender, recipient, dates, payload),
signed with the sending practice's OpenPGP key and encrypted to the receiving
practice's key, in one ASCII-armoured block. Opening it checks, in this order, and each
failure has its own code (the gateway answers with it):

- ``undecryptable``: not for us, or not OpenPGP at all;
- ``tampered``: the content does not match its signature;
- ``unknown_sender``: signed by a key the directory does not list (or a key listed for
  another practice than the one the envelope claims);
- ``expired``: past its expiry (or dated in the future beyond the clock tolerance);
- ``misaddressed``: not addressed to a practice of this node;
- replays (``replayed``) are detected by the inbox, which remembers message ids.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import gnupg

MESSAGE_LIFETIME = timedelta(days=7)
CLOCK_TOLERANCE = timedelta(minutes=10)


class EnvelopeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Address:
    node: str
    practice: str
    practitioner: str = ""


@dataclass(frozen=True)
class Envelope:
    message_id: str
    kind: str  # share | receipt | revocation
    sender: Address
    recipient: Address
    created_at: datetime
    expires_at: datetime
    payload: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {
                "message_id": self.message_id,
                "kind": self.kind,
                "sender": self.sender.__dict__,
                "recipient": self.recipient.__dict__,
                "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "payload": self.payload,
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Envelope:
        data = json.loads(text)
        return cls(
            message_id=str(data["message_id"]),
            kind=str(data["kind"]),
            sender=Address(**data["sender"]),
            recipient=Address(**data["recipient"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            payload=dict(data["payload"]),
        )


def new_envelope(
    *,
    kind: str,
    sender: Address,
    recipient: Address,
    payload: dict[str, Any],
    now: datetime | None = None,
) -> Envelope:
    now = now or datetime.now(UTC)
    return Envelope(
        message_id=str(uuid.uuid4()),
        kind=kind,
        sender=sender,
        recipient=recipient,
        created_at=now,
        expires_at=now + MESSAGE_LIFETIME,
        payload=payload,
    )


def seal(gpg: gnupg.GPG, envelope: Envelope, *, signer: str, recipient_fingerprint: str) -> str:
    """Sign with the sender's key, encrypt to the recipient's: ASCII armour."""
    result = gpg.encrypt(
        envelope.to_json(),
        recipient_fingerprint,
        sign=signer,
        always_trust=True,  # keys come from the signed directory, not a web of trust
        armor=True,
    )
    if not result.ok:
        raise EnvelopeError("seal_failed", f"OpenPGP encryption failed: {result.status}")
    return str(result)


@dataclass(frozen=True)
class Opened:
    envelope: Envelope
    signer_fingerprint: str


def open_sealed(
    gpg: gnupg.GPG,
    armoured: str,
    *,
    known_senders: dict[str, tuple[str, str]],
    local_practices: set[tuple[str, str]],
    now: datetime | None = None,
) -> Opened:
    """Decrypt and check a message. ``known_senders`` maps a fingerprint to the
    (node, practice) the directory lists it for."""
    now = now or datetime.now(UTC)
    if not armoured.lstrip().startswith("-----BEGIN PGP MESSAGE-----"):
        raise EnvelopeError("undecryptable", "not an OpenPGP message")
    result = gpg.decrypt(armoured, always_trust=True)
    if not result.ok or not result.data:
        if "no secret key" in (result.status or ""):
            raise EnvelopeError("undecryptable", "the message is not for this node")
        raise EnvelopeError("tampered", "the message is damaged and cannot be decrypted")
    if not result.valid:
        problems = {problem.get("status") for problem in getattr(result, "problems", [])}
        if "no public key" in problems:
            raise EnvelopeError("unknown_sender", "signed by a key this node does not know")
        raise EnvelopeError("tampered", "the signature does not match the content")
    fingerprint = str(result.fingerprint or "")
    if fingerprint not in known_senders:
        raise EnvelopeError("unknown_sender", "signed by a key the directory does not list")
    try:
        envelope = Envelope.from_json(result.data.decode("utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        raise EnvelopeError("tampered", f"the envelope is malformed: {error}") from error
    if known_senders[fingerprint] != (envelope.sender.node, envelope.sender.practice):
        raise EnvelopeError("unknown_sender", "the key is not the sending practice's key")
    if (envelope.recipient.node, envelope.recipient.practice) not in local_practices:
        raise EnvelopeError("misaddressed", "not addressed to a practice of this node")
    if envelope.expires_at < now:
        raise EnvelopeError("expired", "the message has expired")
    if envelope.created_at > now + CLOCK_TOLERANCE:
        raise EnvelopeError("expired", "the message is dated in the future")
    return Opened(envelope, fingerprint)
