"""The sharing decision: default deny; nothing leaves that a consent does not cover."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.access.sharing import ConsentFacts, Recipient, may_share

TODAY = date(2026, 6, 1)
BOB_PRACTICE = Recipient(node="lyon", practice="cabinet-b", practitioner="10000000001")
CATEGORIES = [
    "identity",
    "problems",
    "allergies",
    "medications",
    "immunizations",
    "observations",
    "letters",
]
LABELS = ["", "mental_health", "hiv_sti"]


def consent(**changes: object) -> ConsentFacts:
    values: dict = {
        "consent_id": 1,
        "grantee_node": "lyon",
        "grantee_practice": "cabinet-b",
        "grantee_practitioner": "",
        "categories": frozenset({"problems", "allergies"}),
        "labels": frozenset(),
        "valid_from": TODAY - timedelta(days=1),
        "valid_until": None,
        "active": True,
    }
    values.update(changes)
    return ConsentFacts(**values)


def decide(
    consents, category="problems", label="", refused=False, recipient=BOB_PRACTICE, today=TODAY
):
    return may_share(
        consents=consents,
        refused_all=refused,
        recipient=recipient,
        category=category,
        label=label,
        today=today,
    )


def test_without_a_consent_nothing_leaves() -> None:
    assert not decide([]).allowed


def test_a_consent_covers_its_categories_only() -> None:
    assert decide([consent()]).allowed
    assert not decide([consent()], category="medications").allowed


def test_a_revoked_or_expired_consent_covers_nothing() -> None:
    assert not decide([consent(active=False)]).allowed
    assert not decide([consent(valid_until=TODAY - timedelta(days=1))]).allowed
    assert not decide([consent(valid_from=TODAY + timedelta(days=1))]).allowed


def test_a_sensitive_entry_needs_its_label_named() -> None:
    assert not decide([consent()], label="mental_health").allowed
    assert decide([consent(labels=frozenset({"mental_health"}))], label="mental_health").allowed


def test_a_consent_to_one_practitioner_does_not_cover_colleagues() -> None:
    to_bob = consent(grantee_practitioner="10000000001")
    assert decide([to_bob]).allowed
    assert not decide([to_bob], recipient=Recipient("lyon", "cabinet-b", "10000000002")).allowed


def test_the_global_refusal_wins() -> None:
    assert not decide([consent()], refused=True).allowed


consents = st.lists(
    st.builds(
        ConsentFacts,
        consent_id=st.integers(1, 9),
        grantee_node=st.sampled_from(["lyon", "paris"]),
        grantee_practice=st.sampled_from(["cabinet-b", "cabinet-c"]),
        grantee_practitioner=st.sampled_from(["", "10000000001", "10000000002"]),
        categories=st.frozensets(st.sampled_from(CATEGORIES)),
        labels=st.frozensets(st.sampled_from(LABELS[1:])),
        valid_from=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        valid_until=st.none() | st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        active=st.booleans(),
    ),
    max_size=4,
)
recipients = st.builds(
    Recipient,
    node=st.sampled_from(["lyon", "paris"]),
    practice=st.sampled_from(["cabinet-b", "cabinet-c"]),
    practitioner=st.sampled_from(["", "10000000001", "10000000002"]),
)


@given(
    consents,
    st.booleans(),
    recipients,
    st.sampled_from(CATEGORIES),
    st.sampled_from(LABELS),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
)
def test_nothing_leaves_that_a_consent_does_not_cover(
    consents, refused, recipient, category, label, today
) -> None:
    decision = may_share(
        consents=consents,
        refused_all=refused,
        recipient=recipient,
        category=category,
        label=label,
        today=today,
    )
    covering = [
        c
        for c in consents
        if c.active
        and c.valid_from <= today
        and (c.valid_until is None or c.valid_until >= today)
        and (c.grantee_node, c.grantee_practice) == (recipient.node, recipient.practice)
        and c.grantee_practitioner in ("", recipient.practitioner)
        and category in c.categories
        and (not label or label in c.labels)
    ]
    assert decision.allowed == (bool(covering) and not refused)
    if decision.allowed:
        assert decision.consent_id in {c.consent_id for c in covering}
