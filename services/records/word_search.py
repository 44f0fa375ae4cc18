"""Matching typed terms against the words of names, shared by the patient, drug and CIM-10
searches: one set of typo rules, one way of finding the candidates.

A typed term finds a word within one edit (substitution, insertion, deletion or
transposition of two neighbours) for words of 4 to 7 letters, two edits from 8 letters,
with the same French spelling (``carnet_name_key``), or as the beginning of the word
while typing (terms of fewer than 3 letters, and numbers, only so). See migration
records/0010 for the lookup keys that make this a few B-tree lookups instead of a scan
(and 0017 for the typed term's, worked out while PostgreSQL plans the search).

Each search has a dictionary: its words with their phonetic key, their lookup keys, and
which item (patient, drug, CIM-10 code) has which word. ``hits_sql`` gives the common
table expressions that end in ``hits``: the items having a word for every term, with
``exact`` (every term is a whole word of the item), ``edits`` (summed over the terms) and
``covered`` (how many letters of the item's words the terms account for).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from records import search_text


@dataclass(frozen=True)
class Dictionary:
    """Where a search looks its words up (table and column names: fixed SQL)."""

    words: str  # one row per word: word, key (its phonetic key)
    keys: str  # the words' lookup keys: key, word
    postings: str  # which item has which word: <item>, word
    item: str  # the postings' column naming the item


PATIENTS = Dictionary("records_nameword", "records_namekey", "records_patientword", "patient_id")
DRUGS = Dictionary("records_referenceword", "records_referencekey", "records_drugword", "drug_id")
CIM10 = Dictionary("records_referenceword", "records_referencekey", "records_cim10word", "code_id")

# Enough for any real query; bounds the generated SQL.
MAX_TERMS = 8


def terms(text: str) -> list[str]:
    """The words of typed text, split as the names are, each cut to the longest word;
    words with no letter or digit ("%", "-") are dropped: no name is searched by them."""
    found = [
        word[: search_text.LONGEST_WORD]
        for term in text.split()
        for word in search_text.words(term)
        if any(character.isalnum() for character in word)
    ]
    return found[:MAX_TERMS]


def prefix_only(term: str) -> bool:
    """Whether a term only matches the beginning of words: a short one, or a number (a
    dosage one digit away is another dosage, not a typo)."""
    return search_text.is_short(term) or term.isdigit()


def shape(found: Iterable[str]) -> tuple[bool, ...]:
    """What the statement depends on besides the values: which terms are prefix-only."""
    return tuple(prefix_only(term) for term in found)


def values(found: Iterable[str]) -> dict[str, str]:
    """The terms as the statement's parameters ``t0``, ``t1``…"""
    return {f"t{index}": term for index, term in enumerate(found)}


# A typed term, as the words are stored (unaccented, lower case).
_TERM = "lower(carnet_unaccent(%(t{index})s))"

# The dictionary words a term finds, with their edits: the word itself, the words that
# begin with it, the words that sound the same in French (same phonetic key), and the
# words within their budget of edits (sharing one of its lookup keys). Every lookup is a
# B-tree equality or range (under row-level security for the patients' words).
# The candidates are gathered first (ARRAY: an init plan, then an index lookup of each
# word) and MATERIALIZED: the edits are counted on those few words only, never pushed
# down to a scan of the whole dictionary.
_WORDS = """
w{index} AS MATERIALIZED (
    SELECT w.word, w.word = {term} AS exact,
           CASE WHEN starts_with(w.word, {term}) THEN 0
                WHEN w.key = carnet_name_key({term}) THEN 0
                ELSE carnet_edits({term}, w.word) END AS edits,
           CASE WHEN starts_with(w.word, {term}) THEN length({term})
                ELSE length(w.word) END AS covered
    FROM {words} w
    WHERE w.word = ANY (ARRAY({candidates}))
)"""
_BEGINNING = (
    'SELECT b.word FROM {words} b WHERE b.word COLLATE "C" >= {term}'
    ' AND b.word COLLATE "C" < {term} || chr(1114111)'
)
# The term's keys as an init plan's array: the planner does not weigh each of its tens of
# keys against the dictionary's statistics (a sixth of a two-name search's planning), and
# nothing after depends on that estimate (the words found are an init plan's array too).
_BY_KEY = (
    "SELECT k.word FROM {keys} k WHERE k.key = ANY (ARRAY(SELECT unnest(carnet_term_keys({term}))))"
)
# The items having one of those words, each with the best of their words.
_ITEMS = """
m{index} AS (
    SELECT pw.{item} AS item, bool_or(w{index}.exact) AS exact,
           min(w{index}.edits) AS edits, max(w{index}.covered) AS covered
    FROM w{index} JOIN {postings} pw ON pw.word = w{index}.word
    WHERE w{index}.edits IS NOT NULL
    GROUP BY pw.{item}
)"""


def hits_sql(dictionary: Dictionary, short: tuple[bool, ...]) -> list[str]:
    """The common table expressions ending in ``hits (item, exact, edits, covered)``, for
    terms ``t0``… of which ``short`` says which only match the beginning of words."""
    ctes = []
    for index, is_short in enumerate(short):
        term = _TERM.format(index=index)
        candidates = _BEGINNING.format(words=dictionary.words, term=term)
        if not is_short:
            candidates += " UNION ALL " + _BY_KEY.format(keys=dictionary.keys, term=term)
        ctes.append(
            _WORDS.format(index=index, term=term, words=dictionary.words, candidates=candidates)
        )
        ctes.append(_ITEMS.format(index=index, item=dictionary.item, postings=dictionary.postings))
    # The items every term found, before any item row is read (MATERIALIZED: otherwise
    # PostgreSQL may read the items of a common word first).
    sums = {
        "exact": " AND ".join(f"m{index}.exact" for index in range(len(short))),
        "edits": " + ".join(f"m{index}.edits" for index in range(len(short))),
        "covered": " + ".join(f"m{index}.covered" for index in range(len(short))),
    }
    together = " ".join(f"JOIN m{index} USING (item)" for index in range(1, len(short)))
    selected = ", ".join(f"{value} AS {name}" for name, value in sums.items())
    ctes.append(f"hits AS MATERIALIZED (SELECT item, {selected} FROM m0 {together})")  # noqa: S608  # nosec B608
    return ctes


def coverage_sql(covered: str, letters: str) -> str:
    """The share of the name's letters the terms cover; terms covering more than the
    name ("bernard bernard" on Bernard Marie) count as covering less."""
    letters = f"greatest(1, {letters})"
    return f"least(({covered})::float / {letters}, {letters}::float / greatest(1, {covered}))"
