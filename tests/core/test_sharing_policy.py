"""The sharing decision: default deny; nothing leaves that a consent does not cover."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
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


# A short span of days, so that consents in force and their edges are often met.
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 2, 28)
NODES = ["lyon", "paris"]
PRACTICES = ["cabinet-b", "cabinet-c"]
# "" is the practice itself as the addressee (no practitioner named).
PRACTITIONERS = ["", "10000000001", "10000000002"]

consents = st.lists(
    st.builds(
        ConsentFacts,
        consent_id=st.integers(1, 9),
        grantee_node=st.sampled_from(NODES),
        grantee_practice=st.sampled_from(PRACTICES),
        grantee_practitioner=st.sampled_from(PRACTITIONERS),
        categories=st.frozensets(st.sampled_from(CATEGORIES)),
        labels=st.frozensets(st.sampled_from(LABELS[1:])),
        valid_from=st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
        valid_until=st.none() | st.dates(min_value=FIRST_DAY, max_value=LAST_DAY),
        active=st.booleans(),
    ),
    max_size=4,
)
recipients = st.builds(
    Recipient,
    node=st.sampled_from(NODES),
    practice=st.sampled_from(PRACTICES),
    practitioner=st.sampled_from(PRACTITIONERS),
)
days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)


# --- The oracle -------------------------------------------------------------------------
# The rule as the patient is told it, written as sets rather than as the checks
# may_share makes: each opt-in in force opens doors — (node, practice, addressee,
# category, label) — and a share goes through an open door only. An opt-in is in force
# on the days from its start to its end, both included, unless revoked; one to the
# practice opens its door to every addressee there, one to a practitioner only theirs;
# an entry without a label goes through any door of its category, a sensitive one only
# through a door that names its label. The refusal of all sharing (the exclusion) shuts
# every door, whatever the opt-ins say.
Door = tuple[str, str, str, str, str]


def doors_opened_by(consent: ConsentFacts, today: date) -> set[Door]:
    in_force = consent.active and today in days_between(consent.valid_from, consent.valid_until)
    if not in_force:
        return set()
    addressees = [consent.grantee_practitioner] if consent.grantee_practitioner else PRACTITIONERS
    return {
        (consent.grantee_node, consent.grantee_practice, addressee, category, label)
        for addressee in addressees
        for category in consent.categories
        for label in ["", *consent.labels]
    }


def days_between(first: date, last: date | None) -> set[date]:
    """Every day generated from first to last (no end: the last day generated)."""
    end = last or LAST_DAY
    return {first + timedelta(days=n) for n in range((end - first).days + 1)}


def door(recipient: Recipient, category: str, label: str) -> Door:
    return (recipient.node, recipient.practice, recipient.practitioner, category, label)


@st.composite
def questions(draw, consents: list[ConsentFacts]) -> tuple[Recipient, str, str, date]:
    """Who asks for what, when. Half the time the question is aimed at one of the
    consents (its practice, one of its categories and labels, a day at or next to its
    start or end), so that the edges of the rule are asked about, not only far misses."""
    if not consents or draw(st.booleans()):
        return (
            draw(recipients),
            draw(st.sampled_from(CATEGORIES)),
            draw(st.sampled_from(LABELS)),
            draw(days),
        )
    aimed = draw(st.sampled_from(consents))
    recipient = Recipient(
        aimed.grantee_node, aimed.grantee_practice, draw(st.sampled_from(PRACTITIONERS))
    )
    category = draw(st.sampled_from(sorted(aimed.categories) or CATEGORIES))
    label = draw(st.sampled_from(["", *sorted(aimed.labels), *LABELS[1:]]))
    edges = [aimed.valid_from, aimed.valid_from - timedelta(days=1)]
    if aimed.valid_until is not None:
        edges += [aimed.valid_until, aimed.valid_until + timedelta(days=1)]
    end = aimed.valid_until or LAST_DAY
    lasting = (
        st.dates(min_value=aimed.valid_from, max_value=end) if end >= aimed.valid_from else days
    )
    today = draw(st.sampled_from(edges) | lasting | days)
    return recipient, category, label, today


@settings(max_examples=600)
@given(consents, st.booleans(), st.data())
def test_nothing_leaves_that_a_consent_does_not_cover(consents, refused, data) -> None:
    recipient, category, label, today = data.draw(questions(consents))
    decision = may_share(
        consents=consents,
        refused_all=refused,
        recipient=recipient,
        category=category,
        label=label,
        today=today,
    )
    wanted = door(recipient, category, label)
    opened_by = {c.consent_id for c in consents if wanted in doors_opened_by(c, today)}
    assert decision.allowed == (bool(opened_by) and not refused)
    if decision.allowed:
        assert decision.consent_id in opened_by


# --- Properties that need no oracle -----------------------------------------------------
@settings(max_examples=200)
@given(consents, st.data())
def test_the_refusal_of_all_sharing_wins_over_any_consent(consents, data) -> None:
    recipient, category, label, today = data.draw(questions(consents))
    decision = may_share(
        consents=consents,
        refused_all=True,
        recipient=recipient,
        category=category,
        label=label,
        today=today,
    )
    assert not decision.allowed


@settings(max_examples=200)
@given(consents, st.booleans(), st.data())
def test_revoking_or_withdrawing_a_consent_never_opens_anything(consents, refused, data) -> None:
    """Fewer or revoked opt-ins share no more than before."""
    recipient, category, label, today = data.draw(questions(consents))

    def allowed(those: list[ConsentFacts]) -> bool:
        return may_share(
            consents=those,
            refused_all=refused,
            recipient=recipient,
            category=category,
            label=label,
            today=today,
        ).allowed

    if not consents:
        return
    which = data.draw(st.integers(0, len(consents) - 1))
    revoked = [replace(c, active=False) if n == which else c for n, c in enumerate(consents)]
    withdrawn = consents[:which] + consents[which + 1 :]
    if not allowed(consents):
        assert not allowed(revoked)
        assert not allowed(withdrawn)
