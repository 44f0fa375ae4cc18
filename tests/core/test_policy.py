"""The policy decision point: pure, default deny."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.access.policy import (
    Action,
    Actor,
    Category,
    EntryFacts,
    PatientFacts,
    Purpose,
    decide,
)

ALICE, BOB, SAM = 1, 2, 3
PRACTICE_A, PRACTICE_B = 10, 20
PAUL = PatientFacts(patient_id=100, practice_id=PRACTICE_A, care_team=frozenset({ALICE}))


def actor(person: int, roles: set[str], practice: int | None = PRACTICE_A, **flags: bool) -> Actor:
    return Actor(person_id=person, practice_id=practice, roles=frozenset(roles), **flags)


def test_a_practitioner_in_the_care_team_reads_clinical_data() -> None:
    decision = decide(
        actor(ALICE, {"practitioner"}), Action.READ, Category.CLINICAL, Purpose.CARE, PAUL
    )
    assert decision.allowed and decision.rule == "care-team"


def test_a_practitioner_outside_the_care_team_is_refused_clinical_data() -> None:
    decision = decide(
        actor(BOB, {"practitioner"}), Action.READ, Category.CLINICAL, Purpose.CARE, PAUL
    )
    assert not decision.allowed and decision.rule == "not-in-care-team"


def test_a_secretary_sees_identity_but_never_clinical_content() -> None:
    sam = actor(SAM, {"secretary"})
    assert decide(sam, Action.READ, Category.IDENTITY, Purpose.ADMINISTRATION, PAUL).allowed
    assert not decide(sam, Action.READ, Category.CLINICAL, Purpose.CARE, PAUL).allowed


def test_nobody_reaches_another_practice() -> None:
    charlie = actor(ALICE, {"practitioner"}, practice=PRACTICE_B)
    decision = decide(charlie, Action.READ, Category.IDENTITY, Purpose.CARE, PAUL)
    assert not decision.allowed and decision.rule == "other-practice"


def test_a_node_admin_has_no_access_even_with_a_role() -> None:
    admin = actor(ALICE, {"practitioner"}, is_node_admin=True)
    assert not decide(admin, Action.READ, Category.IDENTITY, Purpose.CARE, PAUL).allowed


def test_a_practice_admin_only_reads_identity() -> None:
    admin = actor(SAM, {"practice_admin"})
    assert decide(admin, Action.READ, Category.IDENTITY, Purpose.ADMINISTRATION, PAUL).allowed
    assert not decide(admin, Action.WRITE, Category.IDENTITY, Purpose.ADMINISTRATION, PAUL).allowed
    assert not decide(admin, Action.READ, Category.CLINICAL, Purpose.CARE, PAUL).allowed


def facts(**choices: object) -> PatientFacts:
    choices.setdefault("care_team", frozenset({ALICE}))
    return PatientFacts(patient_id=100, practice_id=PRACTICE_A, **choices)  # type: ignore[arg-type]


def read_clinical(person: int, patient: PatientFacts, entry: EntryFacts | None = None):
    return decide(
        actor(person, {"practitioner"}),
        Action.READ,
        Category.CLINICAL,
        Purpose.CARE,
        patient,
        entry,
    )


def test_an_excluded_gp_of_record_is_refused_everything() -> None:
    paul = facts(excluded=frozenset({ALICE}))
    assert read_clinical(ALICE, paul).rule == "excluded-by-patient"
    alice = actor(ALICE, {"practitioner"})
    assert not decide(alice, Action.READ, Category.IDENTITY, Purpose.CARE, paul).allowed


def test_an_exclusion_from_one_entry_hides_only_that_entry() -> None:
    paul = facts()
    assert read_clinical(ALICE, paul, EntryFacts(author_id=BOB)).allowed
    hidden = EntryFacts(author_id=BOB, excluded=frozenset({ALICE}))
    assert read_clinical(ALICE, paul, hidden).rule == "excluded-from-entry"


def test_a_sensitive_entry_is_hidden_from_the_care_team_but_not_its_author() -> None:
    paul = facts(care_team=frozenset({ALICE, BOB}))
    note = EntryFacts(author_id=BOB, label="mental_health")
    assert read_clinical(ALICE, paul, note).rule == "sensitive"
    assert read_clinical(BOB, paul, note).allowed


def test_the_patient_can_allow_a_label_to_someone() -> None:
    paul = facts(label_grants=frozenset({("mental_health", ALICE)}))
    note = EntryFacts(author_id=BOB, label="mental_health")
    assert read_clinical(ALICE, paul, note).rule == "label-grant"
    other = EntryFacts(author_id=BOB, label="genetics")
    assert not read_clinical(ALICE, paul, other).allowed


def test_break_the_glass_opens_non_sensitive_entries_only() -> None:
    paul = facts(break_glass=frozenset({BOB}))
    assert read_clinical(BOB, paul).rule == "break-the-glass"
    assert not read_clinical(BOB, paul, EntryFacts(author_id=ALICE, label="hiv_sti")).allowed


def test_break_the_glass_does_not_override_an_exclusion() -> None:
    paul = facts(break_glass=frozenset({BOB}), excluded=frozenset({BOB}))
    assert read_clinical(BOB, paul).rule == "excluded-by-patient"


actors = st.builds(
    Actor,
    person_id=st.integers(1, 5),
    practice_id=st.sampled_from([None, PRACTICE_A, PRACTICE_B]),
    roles=st.frozensets(st.sampled_from(["practitioner", "secretary", "practice_admin", "x"])),
    is_node_admin=st.booleans(),
    is_cooperative_admin=st.booleans(),
)
people = st.integers(1, 5)
labels = st.sampled_from(["", "mental_health", "genetics"])
patients = st.builds(
    PatientFacts,
    patient_id=st.integers(1, 5),
    practice_id=st.sampled_from([PRACTICE_A, PRACTICE_B]),
    care_team=st.frozensets(people),
    excluded=st.frozensets(people, max_size=2),
    label_grants=st.frozensets(st.tuples(labels, people), max_size=3),
    break_glass=st.frozensets(people, max_size=2),
)
entries = st.none() | st.builds(
    EntryFacts, author_id=people, label=labels, excluded=st.frozensets(people, max_size=2)
)


@given(
    actors,
    st.sampled_from(Action),
    st.sampled_from(Category),
    st.sampled_from(Purpose),
    patients,
    entries,
)
def test_properties_of_every_decision(actor_, action, category, purpose, patient, entry) -> None:
    decision = decide(actor_, action, category, purpose, patient, entry)
    person = actor_.person_id
    assert decision.reason  # every decision says why
    if decision.allowed:
        assert actor_.practice_id == patient.practice_id
        assert not actor_.is_node_admin
        assert actor_.roles
        assert person not in patient.excluded  # no exception, not even the GP
    if decision.allowed and category == Category.CLINICAL:
        assert "practitioner" in actor_.roles
        assert (
            person in patient.care_team
            or person in patient.break_glass
            or (entry is not None and person == entry.author_id)
            or (entry is not None and (entry.label, person) in patient.label_grants)
        )
        if entry is not None:
            assert person not in entry.excluded
            if entry.label:
                assert person == entry.author_id or (entry.label, person) in patient.label_grants
