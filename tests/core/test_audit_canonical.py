"""The fast canonical form of an audit event gives exactly the bytes of its definition
(JSON, keys sorted, no spaces, UTF-8): a single differing byte would make every existing
trail fail verification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.audit.chain import (
    HASHED_FIELDS,
    SORTED_FIELDS,
    canonical,
    canonical_around_link,
    canonical_reference,
    canonical_values,
    encoded,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
# What a field of an event can hold, and a few things it never should (a float, a
# boolean, a list), which must still give the definition's bytes.
field_values = (
    st.text()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.none()
    | st.datetimes(timezones=st.just(UTC))
    | st.dictionaries(st.text(max_size=20), json_values, max_size=6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.lists(st.integers(), max_size=3)
)


@given(st.fixed_dictionaries(dict.fromkeys(HASHED_FIELDS, field_values)))
def test_the_fast_canonical_form_is_the_definition(fields: dict[str, Any]) -> None:
    assert canonical(fields) == canonical_reference(fields)
    # As verification computes it: values in the form's order, the details pre-encoded.
    values = [fields[name] for name in SORTED_FIELDS]
    if isinstance(fields["details"], dict):
        values[SORTED_FIELDS.index("details")] = encoded(fields["details"])
    assert canonical_values(values) == canonical_reference(fields)


def test_a_typical_event_with_markup_quotes_and_non_ascii_text() -> None:
    fields: dict[str, Any] = dict.fromkeys(HASHED_FIELDS, "")
    fields.update(
        chain=3,
        seq=17,
        occurred_at=datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC),
        practice_id=3,
        actor_id=None,
        user_agent='Mozilla/5.0 "Chromium" <script>é\u2028\x01',
        details={"view": "chart", "hidden_entries": 0, "b": [1.5, None, True]},
    )
    assert canonical(fields) == canonical_reference(fields)
    assert b'"occurred_at":"2026-11-22T10:00:00.123456Z"' in canonical(fields)


# The fields the database links (prev_hash: a hex digest; seq: a positive number).
links = st.fixed_dictionaries(
    {
        "prev_hash": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        "seq": st.integers(min_value=1, max_value=2**62),
    }
)


@given(st.fixed_dictionaries(dict.fromkeys(HASHED_FIELDS, field_values)), links)
def test_the_pieces_around_the_link_rebuild_the_definition(
    fields: dict[str, Any], link: dict[str, Any]
) -> None:
    """What ``audit_append`` joins in the database is, byte for byte, the definition:
    whatever the other fields hold (a details object with its own "prev_hash" or "seq"
    key, quotes, markup)."""
    head, middle, tail = canonical_around_link(fields)
    joined = (head + link["prev_hash"] + middle + str(link["seq"]) + tail).encode()
    assert joined == canonical_reference(dict(fields, **link))


def test_a_details_object_naming_the_link_keys_does_not_move_the_cut() -> None:
    fields: dict[str, Any] = dict.fromkeys(HASHED_FIELDS, "")
    fields["details"] = {"prev_hash": "", "seq": 0, "x": ',"seq":0'}
    fields["reason"] = '"prev_hash":"'
    head, middle, tail = canonical_around_link(fields)
    link = {"prev_hash": "a" * 64, "seq": 7}
    assert (head + "a" * 64 + middle + "7" + tail).encode() == canonical_reference(
        dict(fields, **link)
    )


def test_a_value_after_the_sequence_number_naming_it_does_not_move_the_cut() -> None:
    """Fields written after ``seq`` (the target, the user agent) may hold an object with its
    own "seq" key: the cut is made field by field, never by searching the text."""
    fields: dict[str, Any] = dict.fromkeys(HASHED_FIELDS, "")
    fields["target"] = {"seq": 0}
    fields["user_agent"] = {"prev_hash": "", "seq": 1}
    head, middle, tail = canonical_around_link(fields)
    assert (head + "b" * 64 + middle + "9" + tail).encode() == canonical_reference(
        dict(fields, prev_hash="b" * 64, seq=9)
    )
