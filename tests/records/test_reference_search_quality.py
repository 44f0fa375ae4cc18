"""How well the drug and CIM-10 searches forgive, measured on the reference data shipped
with Carnet (records/data: the BDPM drug names, the ATIH CIM-10 labels).

Names are drawn at random (fixed seed) from the shipped files, among those of at most
eight words (the words a search takes). Each is typed in lower case without accents,
with every kind of error the search promises to forgive in one of its words (the longest
or the shortest of 4 letters or more), at every position of the word:
one substitution, insertion, deletion or transposition of two neighbours in words of 4
to 7 letters, two of them from 8 letters, French spelling equivalents, the beginning of
the last word while typing; the words in the name's order or in another. The exact name
is typed too (as written, accents and capitals) and must come first. Each query runs
through the real search on PostgreSQL with the whole files loaded. Names that several
items share (a drug sold under one name by two holders) count as the same item.

Run with ``-s`` to see the figures; they are asserted too.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from records import reference, search_text
from tests.records.test_reference import loaded, reference_data  # noqa: F401 - fixtures
from tests.records.test_search_quality import ERRORS, edit, french_variants, osa, plain, where

SAMPLE = 160
MAX_WORDS = 8


@dataclass(frozen=True)
class Case:
    query: str
    expected: frozenset[str]  # the CIS or codes of the items of that name
    kind: str
    position: str = ""  # first, middle or last letter, or "" for whole-word kinds
    exact: bool = False


def name_words(name: str) -> list[str]:
    """The words of a name as a person types them: plain, without punctuation."""
    return [
        word
        for word in search_text.words(plain(name))
        if any(character.isalnum() for character in word)
    ]


def sample(items: Sequence[tuple[str, str]], seed: int) -> list[tuple[str, frozenset[str]]]:
    """Names of 2 to 8 words with a word of 4 letters or more for the typos, each with the
    items (CIS or code) that have it."""
    rng = random.Random(seed)
    having: dict[str, set[str]] = defaultdict(set)
    for key, name in items:
        having[name].add(key)
    fit = sorted(
        name
        for name in having
        if 2 <= len(name_words(name)) <= MAX_WORDS
        and any(len(word) >= 4 and word.isalpha() for word in name_words(name))
    )
    return [(name, frozenset(having[name])) for name in rng.sample(fit, SAMPLE)]


def quality_cases(names: list[tuple[str, frozenset[str]]], seed: int) -> list[Case]:
    rng = random.Random(seed)
    turn = Counter[str]()
    cases: list[Case] = []
    for number, (name, expected) in enumerate(names):
        words = name_words(name)
        cases.append(Case(name, expected, "exact", exact=True))
        # The typo goes into a word of letters of 4 letters or more (no typo in a
        # dosage): the longest one, or for every other name the shortest one.
        typeable = [index for index, word in enumerate(words) if word.isalpha()]
        typeable = [index for index in typeable if len(words[index]) >= 4]
        pick = max if number % 2 == 0 else min
        target = pick(typeable, key=lambda index: len(words[index]))
        word = words[target]

        def typed(replacement: str, words: list[str] = words, target: int = target) -> str:
            changed = [*words[:target], replacement, *words[target + 1 :]]
            if rng.random() < 0.5:  # several words in any order
                rng.shuffle(changed)
            return " ".join(changed)

        # One error, the kind turning over the kinds and, for each kind, the position over
        # the word's letters.
        kind = ERRORS[turn["kind"] % len(ERRORS)]
        turn["kind"] += 1
        position = turn[kind] % len(word)
        turn[kind] += 1
        # A transposition at the last letter swaps it with the one before.
        swapped = min(position, len(word) - 2)
        if not (kind == "transposition" and word[swapped] == word[swapped + 1]):
            typo = edit(word, kind, position, rng)
            cases.append(Case(typed(typo), expected, kind, where(position, len(word))))
        if len(word) >= 8:
            # Two errors in a long word: the second half a word away from the first.
            first = turn["two"] % len(word)
            turn["two"] += 1
            kinds = (ERRORS[first % 4], ERRORS[(first + 1) % 4])
            typo = edit(word, kinds[0], first, rng)
            second = min((first + len(word) // 2) % len(word), len(typo) - 1)
            typo = edit(typo, kinds[1], second, rng)
            if osa(typo, word) == 2:
                label = f"two edits: {kinds[0]} + {kinds[1]}"
                cases.append(Case(typed(typo), expected, label, where(first, len(word))))
        # A French spelling of the word (one rule per case, turning over the rules).
        variants = list(french_variants(word))
        if variants:
            rule, variant = variants[turn["french"] % len(variants)]
            turn["french"] += 1
            cases.append(Case(typed(variant), expected, f"French: {rule}"))
        # The last word not finished yet, while typing (at least three letters).
        if len(words[-1]) >= 5 and number % 2 == 0:
            beginning = words[-1][: max(3, len(words[-1]) - 2)]
            cases.append(Case(" ".join([*words[:-1], beginning]), expected, "beginning"))
    return cases


@dataclass
class Figures:
    in_five: dict[str, list[bool]]
    positions: dict[str, set[str]]
    exact: list[bool]
    missed: list[tuple[Case, list[tuple[str, str]]]]

    @property
    def rate(self) -> float:
        total = sum(len(hits) for hits in self.in_five.values())
        return sum(sum(hits) for hits in self.in_five.values()) / total


def measure(
    what: str, cases: list[Case], search: Callable[[str], list[tuple[str, str]]]
) -> Figures:
    figures = Figures(defaultdict(list), defaultdict(set), [], [])
    for case in cases:
        results = search(case.query)
        hit = any(key in case.expected for key, _name in results[:5])
        family = case.kind.split(":")[0]
        figures.in_five[family].append(hit)
        if case.position:
            figures.positions[family].add(case.position)
        if not hit:
            figures.missed.append((case, results[:5]))
        if case.exact:
            figures.exact.append(bool(results) and results[0][0] in case.expected)
    total = sum(len(hits) for hits in figures.in_five.values())
    print(f"\n{what} search quality: {total} cases, expected in the first five: {figures.rate:.2%}")
    for family, hits in sorted(figures.in_five.items()):
        places = ", ".join(sorted(figures.positions[family]))
        print(f"  {family:<20} {sum(hits):>4}/{len(hits):<4} {places}")
    print(f"  exact queries with the item first: {sum(figures.exact)}/{len(figures.exact)}")
    for case, found in figures.missed:
        names = [name for _key, name in found[:3]]
        print(f"  missed: {case.query!r} ({case.kind}, {case.position}) -> {names}")
    return figures


def check(figures: Figures, cases: list[Case]) -> None:
    assert len(cases) >= 100
    assert figures.rate >= 0.99
    assert all(figures.exact), [case.query for case in cases if case.exact][:5]
    # Every kind of error was tried at the first, a middle and the last letter.
    for kind in ERRORS:
        assert figures.positions[kind] == {"first", "middle", "last"}, (kind, figures.positions)


def drugs(query: str) -> list[tuple[str, str]]:
    return [(drug.cis, drug.name) for drug in reference.drug_search(query, limit=5)]


def cim10_codes(query: str) -> list[tuple[str, str]]:
    return [(code.code, code.label) for code in reference.cim10_search(query, limit=5)]


@pytest.mark.usefixtures("reference_data")
def test_the_drug_search_finds_the_drug_despite_errors() -> None:
    rows = reference.read_drugs(reference.DEFAULT_DRUGS_FILE)
    cases = quality_cases(sample([(row.cis, row.name) for row in rows], seed=2026), seed=16)
    check(measure("drug", cases, drugs), cases)


@pytest.mark.usefixtures("reference_data")
def test_the_cim10_search_finds_the_code_despite_errors() -> None:
    rows = reference.read_cim10(reference.DEFAULT_CIM10_FILE)
    items = [(row.code, row.full_label) for row in rows]
    cases = quality_cases(sample(items, seed=2027), seed=17)
    check(measure("CIM-10", cases, cim10_codes), cases)


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("amoxiciline", "AMOXICILLINE"),
        ("paracetamole", "PARACETAMOL"),
        ("ibuprophene", "IBUPROFENE"),
    ],
)
def test_the_user_guide_examples_find_the_drug(typed: str, meant: str) -> None:
    found = reference.drug_search(typed, limit=5)

    assert found, typed
    assert all(meant in plain(drug.name).upper() for drug in found), [d.name for d in found]


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize(
    "query", ["dolipran", "doliprane 1000 mg comprime", "a b c d e f g h i j k l m n o p"]
)
def test_a_drug_search_is_one_statement_whatever_the_query(
    query: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        reference.drug_search(query)
    with django_assert_num_queries(1):
        reference.drug_search(query, vaccines=True)


@pytest.mark.usefixtures("reference_data")
def test_a_cim10_search_is_one_statement_and_one_more_for_a_code(
    django_assert_num_queries: Any,
) -> None:
    for query in ["diabete", "insufisance cardiaque chronique", "a b c d e f g h i j k"]:
        with django_assert_num_queries(1):
            reference.cim10_search(query)
    with django_assert_num_queries(2):
        reference.cim10_search("E11", limit=50)  # the code's subdivisions, then words
