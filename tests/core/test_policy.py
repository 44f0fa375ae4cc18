"""The policy decision point: pure, default deny."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from core.access.policy import (
    Action,
    Actor,
    Category,
    EntryFacts,
    PatientFacts,
    PracticeAction,
    Purpose,
    decide,
    decide_practice,
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
    practice_team=st.booleans(),
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
            or patient.practice_team
            or person in patient.break_glass
            or (entry is not None and person == entry.author_id)
            or (entry is not None and (entry.label, person) in patient.label_grants)
        )
        if entry is not None:
            assert person not in entry.excluded
            if entry.label:
                assert person == entry.author_id or (entry.label, person) in patient.label_grants


# --- the practice's care team ("équipe de soins") -------------------------------------


def test_in_a_practice_wide_team_a_colleague_reads_clinical_data() -> None:
    paul = facts(practice_team=True)
    decision = read_clinical(BOB, paul)
    assert decision.allowed and decision.rule == "practice-care-team"
    assert read_clinical(BOB, facts()).rule == "not-in-care-team"  # a named team: no


def test_in_a_practice_wide_team_a_named_member_is_still_allowed_as_a_member() -> None:
    assert read_clinical(ALICE, facts(practice_team=True)).rule == "care-team"


def test_a_practice_wide_team_holds_practitioners_only() -> None:
    paul = facts(practice_team=True)
    for roles in ({"secretary"}, {"practice_admin"}, {"secretary", "practice_admin"}):
        decision = decide(actor(SAM, roles), Action.READ, Category.CLINICAL, Purpose.CARE, paul)
        assert decision.rule == "not-practitioner"


def test_a_practice_wide_team_does_not_reach_another_practice() -> None:
    charlie = actor(BOB, {"practitioner"}, practice=PRACTICE_B)
    paul = facts(practice_team=True)
    decision = decide(charlie, Action.READ, Category.CLINICAL, Purpose.CARE, paul)
    assert decision.rule == "other-practice"


def test_in_a_practice_wide_team_the_patients_exclusions_and_labels_still_win() -> None:
    paul = facts(practice_team=True, excluded=frozenset({BOB}))
    assert read_clinical(BOB, paul).rule == "excluded-by-patient"
    paul = facts(practice_team=True)
    hidden = EntryFacts(author_id=ALICE, excluded=frozenset({BOB}))
    assert read_clinical(BOB, paul, hidden).rule == "excluded-from-entry"
    note = EntryFacts(author_id=ALICE, label="mental_health")
    assert read_clinical(BOB, paul, note).rule == "sensitive"


@given(
    actors,
    st.sampled_from(Action),
    st.sampled_from(Category),
    st.sampled_from(Purpose),
    patients,
    entries,
)
def test_the_practice_wide_team_never_overrides_an_exclusion_or_a_label(
    actor_, action, category, purpose, patient, entry
) -> None:
    """Whatever the practice's setting, the patient's exclusions (from the record or
    from one entry) and the sensitivity labels decide the same way."""
    person = actor_.person_id
    named = replace(patient, practice_team=False)
    wide = replace(patient, practice_team=True)
    in_named = decide(actor_, action, category, purpose, named, entry)
    in_wide = decide(actor_, action, category, purpose, wide, entry)
    if person in patient.excluded:
        assert not in_wide.allowed
    if category == Category.CLINICAL and entry is not None:
        if person in entry.excluded:
            assert not in_wide.allowed
        ungranted = (entry.label, person) not in patient.label_grants
        if entry.label and person != entry.author_id and ungranted:
            assert not in_wide.allowed
    # The setting only ever adds the practice's practitioners, by its own rule.
    if in_wide.allowed != in_named.allowed:
        assert in_wide.allowed and in_wide.rule == "practice-care-team"
        assert category == Category.CLINICAL and "practitioner" in actor_.roles
        assert actor_.practice_id == patient.practice_id and not actor_.is_node_admin
    if not patient.practice_team:
        assert decide(actor_, action, category, purpose, patient, entry) == in_named


# --- the practice's settings -----------------------------------------------------------


def test_only_a_practice_admin_changes_the_practice_settings() -> None:
    admin = actor(SAM, {"practice_admin"})
    assert decide_practice(admin, PracticeAction.CHANGE_SETTINGS, PRACTICE_A).allowed
    for roles in ({"practitioner"}, {"secretary"}, {"practitioner", "secretary"}):
        decision = decide_practice(actor(ALICE, roles), PracticeAction.CHANGE_SETTINGS, PRACTICE_A)
        assert not decision.allowed and decision.rule == "not-practice-admin"
        assert decide_practice(actor(ALICE, roles), PracticeAction.VIEW_SETTINGS, PRACTICE_A)


def test_a_practice_admin_of_another_practice_changes_nothing_here() -> None:
    admin = actor(SAM, {"practice_admin"}, practice=PRACTICE_B)
    decision = decide_practice(admin, PracticeAction.CHANGE_SETTINGS, PRACTICE_A)
    assert decision.rule == "other-practice"


@given(actors, st.sampled_from(PracticeAction), st.sampled_from([PRACTICE_A, PRACTICE_B]))
def test_properties_of_every_practice_decision(actor_, action, practice_id) -> None:
    decision = decide_practice(actor_, action, practice_id)
    assert decision.reason
    if decision.allowed:
        assert actor_.practice_id == practice_id and actor_.roles
    if decision.allowed and action == PracticeAction.CHANGE_SETTINGS:
        assert "practice_admin" in actor_.roles


def test_only_the_desk_hands_over_or_posts_a_patients_letter() -> None:
    for roles, allowed in (
        ({"secretary"}, True),
        ({"practice_admin"}, True),
        ({"practitioner"}, False),
    ):
        decision = decide_practice(
            actor(ALICE, roles), PracticeAction.HAND_OVER_LETTERS, PRACTICE_A
        )
        assert decision.allowed is allowed
    other = actor(SAM, {"secretary"}, practice=PRACTICE_B)
    assert not decide_practice(other, PracticeAction.HAND_OVER_LETTERS, PRACTICE_A)


def test_only_an_administrator_reviews_emergency_accesses() -> None:
    review = PracticeAction.REVIEW_EMERGENCY_ACCESS
    assert decide_practice(actor(SAM, {"practice_admin"}), review, PRACTICE_A)
    for roles in ({"practitioner"}, {"secretary"}):
        decision = decide_practice(actor(ALICE, roles), review, PRACTICE_A)
        assert not decision.allowed and decision.rule == "not-practice-admin"


# Who may do what, restated from the checks the pages and services made before the
# policy held them (a role name in a view is now a named action here).
PRACTITIONER, SECRETARY, ADMIN = "practitioner", "secretary", "practice_admin"
WHO_MAY = {
    PracticeAction.RECORD_PATIENT_CHOICES: {PRACTITIONER, SECRETARY},
    PracticeAction.OPEN_EMERGENCY_ACCESS: {PRACTITIONER},
    PracticeAction.MERGE_RECORDS: {PRACTITIONER},
    PracticeAction.IMPORT_RECORDS: {PRACTITIONER},
    PracticeAction.KEEP_CASH_BOOK: {PRACTITIONER, SECRETARY, ADMIN},
    PracticeAction.EXPORT_ACCOUNTS: {PRACTITIONER, SECRETARY, ADMIN},
    PracticeAction.VIEW_CARE_WORK: {PRACTITIONER, ADMIN},
    PracticeAction.VIEW_DUES: {ADMIN},
    PracticeAction.MANAGE_STAFF: {ADMIN},
}


def test_each_named_action_is_for_the_roles_it_names_and_in_its_own_practice_only() -> None:
    for action, roles in WHO_MAY.items():
        for role in (PRACTITIONER, SECRETARY, ADMIN):
            decision = decide_practice(actor(ALICE, {role}), action, PRACTICE_A)
            assert decision.allowed is (role in roles), (action, role)
            assert decision.reason and decision.rule
        anyone = {PRACTITIONER, SECRETARY, ADMIN}
        assert decide_practice(actor(ALICE, anyone), action, PRACTICE_A)  # one role is enough
        assert not decide_practice(actor(ALICE, anyone, practice=PRACTICE_B), action, PRACTICE_A)
        assert not decide_practice(actor(ALICE, anyone, is_node_admin=True), action, PRACTICE_A)
        assert not decide_practice(actor(ALICE, set()), action, PRACTICE_A)
