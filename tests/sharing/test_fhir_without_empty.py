"""A resource's empty members are left out at any depth, as the FHIR rules want."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sharing.fhir.render import _without_empty


def specification(value: Any) -> Any:
    """The rule as first written: clean the members, then drop those equal to an empty
    value."""
    if isinstance(value, dict):
        cleaned = {key: specification(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        cleaned_items = [specification(item) for item in value]
        return [item for item in cleaned_items if item not in (None, "", [], {})]
    return value


SCALARS = st.one_of(
    st.none(), st.just(""), st.text(max_size=3), st.integers(-2, 2), st.booleans(), st.floats()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(VALUES)
def test_the_empty_members_go_as_the_rule_says(value: Any) -> None:
    assert repr(_without_empty(value)) == repr(specification(value))


def test_zero_and_false_stay() -> None:
    resource = {"a": 0, "b": False, "c": "", "d": [None, {}, [""]], "e": {"f": {"g": None}}}
    assert _without_empty(resource) == {"a": 0, "b": False}
