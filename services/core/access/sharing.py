"""The sharing decision: may this piece of the record leave the practice, to this
recipient, now? Pure, like the rest of the policy: the consents are passed in.

Default deny. Data leaves only when one active consent of the patient, valid today,
names the recipient (the practice, or the practice and this practitioner), covers the
data's category and — for a sensitive entry — names its label explicitly, and the
patient has not said no to all sharing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ConsentFacts:
    consent_id: int
    grantee_node: str
    grantee_practice: str
    grantee_practitioner: str  # empty: the whole practice
    categories: frozenset[str]
    labels: frozenset[str]
    valid_from: date
    valid_until: date | None
    active: bool


@dataclass(frozen=True)
class Recipient:
    node: str
    practice: str
    practitioner: str = ""  # RPPS of the addressee, empty for the practice


@dataclass(frozen=True)
class ShareDecision:
    allowed: bool
    reason: str
    consent_id: int | None = None


def may_share(
    *,
    consents: list[ConsentFacts],
    refused_all: bool,
    recipient: Recipient,
    category: str,
    label: str = "",
    today: date,
) -> ShareDecision:
    if refused_all:
        return ShareDecision(False, "the patient refuses all sharing")
    for consent in consents:
        if not consent.active:
            continue
        if consent.valid_from > today or (consent.valid_until and consent.valid_until < today):
            continue
        if (consent.grantee_node, consent.grantee_practice) != (recipient.node, recipient.practice):
            continue
        if consent.grantee_practitioner and consent.grantee_practitioner != recipient.practitioner:
            continue
        if category not in consent.categories:
            continue
        if label and label not in consent.labels:
            continue
        return ShareDecision(True, "covered by the patient's consent", consent.consent_id)
    return ShareDecision(False, "no consent of the patient covers this")
