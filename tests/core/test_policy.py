"""The policy decision point: pure, default deny."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.access.policy import Action, Actor, Category, PatientFacts, Purpose, decide

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


actors = st.builds(
    Actor,
    person_id=st.integers(1, 5),
    practice_id=st.sampled_from([None, PRACTICE_A, PRACTICE_B]),
    roles=st.frozensets(st.sampled_from(["practitioner", "secretary", "practice_admin", "x"])),
    is_node_admin=st.booleans(),
    is_cooperative_admin=st.booleans(),
)
patients = st.builds(
    PatientFacts,
    patient_id=st.integers(1, 5),
    practice_id=st.sampled_from([PRACTICE_A, PRACTICE_B]),
    care_team=st.frozensets(st.integers(1, 5)),
)


@given(
    actors, st.sampled_from(Action), st.sampled_from(Category), st.sampled_from(Purpose), patients
)
def test_properties_of_every_decision(actor_, action, category, purpose, patient) -> None:
    decision = decide(actor_, action, category, purpose, patient)
    assert decision.reason  # every decision says why
    if decision.allowed:
        assert actor_.practice_id == patient.practice_id
        assert not actor_.is_node_admin
        assert actor_.roles
    if decision.allowed and category == Category.CLINICAL:
        assert "practitioner" in actor_.roles
        assert actor_.person_id in patient.care_team
