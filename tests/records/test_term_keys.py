"""A typed term's lookup keys: migration 0017's one pass gives the keys of migration
0010's definition, for any word the search can be given."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

term_keys_0010 = importlib.import_module(
    "records.migrations.0017_term_keys_in_one_pass"
).term_keys_0010

# Folded typed words: lower-case letters and digits (and a letter past ASCII, which
# carnet_unaccent may leave), from 1 letter to past the longest word.
WORDS = st.text(alphabet="abcdeilmnorstuz0é", min_size=1, max_size=24)


@pytest.fixture
def before(db: None) -> str:
    """Migration 0010's function, beside the current one for this session."""
    definition = term_keys_0010().replace(
        "FUNCTION carnet_term_keys(", "FUNCTION pg_temp.carnet_term_keys_0010("
    )
    with connection.cursor() as cursor:
        cursor.execute(definition)
    return "pg_temp.carnet_term_keys_0010"


def keys(function: str, word: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [word])  # nosec B608
        found: list[str] = cursor.fetchone()[0]
    return found


# The fixture only defines a function: the same for every example.
@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(word=WORDS)
def test_the_keys_are_migration_0010_s(before: str, word: str) -> None:
    now = keys("carnet_term_keys", word)
    assert len(now) == len(set(now))
    assert sorted(now) == sorted(keys(before, word))


@pytest.mark.parametrize(
    "word", ["le", "dupont", "lecercq", "raphael", "abcdefgh", "charpentier-lefevre"]
)
def test_the_keys_of_common_lengths_are_migration_0010_s(before: str, word: str) -> None:
    assert sorted(keys("carnet_term_keys", word)) == sorted(keys(before, word))
