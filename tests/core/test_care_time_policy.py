"""Who reads whose documentation time (``decide_care_time``), exhaustively over roles,
practices, subjects and the sharing switch."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.access.policy import Actor, CareTimeView, RoleName, decide_care_time

ROLES = st.frozensets(st.sampled_from(list(RoleName)))


@given(
    roles=ROLES,
    same_practice=st.booleans(),
    own=st.booleans(),
    shared=st.booleans(),
    node_admin=st.booleans(),
)
def test_a_practitioner_reads_their_own_figures_and_a_colleague_only_when_shared(
    roles: frozenset[str], same_practice: bool, own: bool, shared: bool, node_admin: bool
) -> None:
    actor = Actor(person_id=1, practice_id=10, roles=roles, is_node_admin=node_admin)
    subject = 1 if own else 2
    practice = 10 if same_practice else 11
    allowed = decide_care_time(
        actor, CareTimeView.PRACTITIONER, practice, subject, shared=shared
    ).allowed
    expected = (
        not node_admin and same_practice and RoleName.PRACTITIONER in roles and (own or shared)
    )
    assert allowed == expected


@given(roles=ROLES, same_practice=st.booleans())
def test_only_the_administrators_read_the_practice_totals(
    roles: frozenset[str], same_practice: bool
) -> None:
    actor = Actor(person_id=1, practice_id=10, roles=roles)
    allowed = decide_care_time(actor, CareTimeView.PRACTICE, 10 if same_practice else 11).allowed
    assert allowed == (same_practice and RoleName.PRACTICE_ADMIN in roles)


def test_a_secretary_reads_nothing_even_shared() -> None:
    sam = Actor(person_id=3, practice_id=10, roles=frozenset({RoleName.SECRETARY}))
    for view in CareTimeView:
        assert not decide_care_time(sam, view, 10, 1, shared=True)
        assert not decide_care_time(sam, view, 10, 3, shared=True)
