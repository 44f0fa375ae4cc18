"""How well the patient search forgives, measured on real French names.

Patients are made from a published list of French family and given names
(tests/records/data/french_names.json, see SOURCES.md there: Faker's fr_FR lists, MIT).
Queries are generated from them with every kind of error the search promises to forgive,
at every position of the word: one substitution, insertion, deletion or transposition of
two neighbours in words of 4 to 7 letters, two of them from 8 letters, French spelling
equivalents, the beginning of a word, accents and case; the erroneous name is typed with
another name of the patient, in either order. Each query runs through the real search on
PostgreSQL, under row-level security, as the practice's secretary.

A second set of queries matches nobody on purpose (two edits from every name, three
from the names of 8 letters or more, where two are forgiven) and shows what comes back.
Run with ``-s`` to see the figures; they are asserted too.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from core import tenancy
from records.models import Patient
from records.selectors import patient_search
from tests.fixtures import World

NAMES = json.loads((Path(__file__).parent / "data" / "french_names.json").read_text("utf-8"))
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ERRORS = ("substitution", "insertion", "deletion", "transposition")


def plain(text: str) -> str:
    """Lower case, without accents: what people type when they do not bother."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def osa(a: str, b: str) -> int:
    """Edits between two words, a transposition of neighbours counting as one."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def edit(word: str, kind: str, position: int, rng: random.Random) -> str:
    """One error of this kind at this position (0-based)."""
    if kind == "substitution":
        other = rng.choice([c for c in LETTERS if c != word[position]])
        return word[:position] + other + word[position + 1 :]
    if kind == "insertion":
        return word[:position] + rng.choice(LETTERS) + word[position:]
    if kind == "deletion":
        return word[:position] + word[position + 1 :]
    # transposition of the letter at ``position`` and the next one (or the previous one)
    if position == len(word) - 1:
        position -= 1
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


# French spellings: (name of the rule, from, to); applied once, where the word has "from".
FRENCH = (
    ("ph/f", "ph", "f"),
    ("f/ph", "f", "ph"),
    ("qu/k", "qu", "k"),
    ("c/k", "ca", "ka"),
    ("c/k", "co", "ko"),
    ("y/i", "y", "i"),
    ("i/y", "i", "y"),
    ("g/j", "ge", "je"),
    ("g/j", "gi", "ji"),
    ("gu/g", "gue", "ge"),
    ("gu/g", "gui", "gi"),
    ("double consonant", "ll", "l"),
    ("double consonant", "nn", "n"),
    ("double consonant", "tt", "t"),
    ("double consonant", "ss", "s"),
    ("double consonant", "rr", "r"),
    ("eau/o", "eau", "o"),
    ("au/o", "au", "o"),
    ("ai/e", "ai", "e"),
    ("e/é", "e", "é"),
    ("é/è", "é", "è"),
    ("ç/c", "ç", "c"),
)
SILENT_FINALS = "tdsxe"


def french_variants(name: str) -> Iterator[tuple[str, str]]:
    lower = name.lower()
    for rule, before, after in FRENCH:
        if before in lower:
            yield rule, lower.replace(before, after, 1)
    if lower[-1] in SILENT_FINALS and len(lower) > 4:
        yield "silent final letter", lower[:-1]
    elif lower[-1] in "aeiou":
        yield "silent final letter", lower + "t"
    for index in range(1, len(lower) - 1):
        if lower[index] in "lnrst" and lower[index - 1] in "aeiou" and lower[index + 1] in "aeiou":
            yield "double consonant", lower[: index + 1] + lower[index:]
            break


@dataclass(frozen=True)
class Case:
    query: str
    expected: int  # the patient's id
    kind: str
    position: str  # first, middle or last letter, or "" for whole-word kinds
    exact: bool = False


def where(position: int, length: int) -> str:
    return "first" if position == 0 else "last" if position >= length - 1 else "middle"


def typed_word(name: str) -> str:
    """The longest word of a name (the one a typo goes into), as typed: plain."""
    return max(plain(name).replace("-", " ").split(), key=len)


@pytest.fixture
def registered(world: World) -> tuple[World, list[Patient]]:
    tenancy.activate(world.practice_a.pk)
    rng = random.Random(16)
    family = NAMES["family_names"]
    female, male = NAMES["female_given_names"], NAMES["male_given_names"]
    patients = []
    for index, birth_name in enumerate(family):
        sex = "F" if index % 2 == 0 else "M"
        givens = female if sex == "F" else male
        used_name = family[(index * 7 + 3) % len(family)] if sex == "F" and index % 6 == 0 else ""
        patients.append(
            Patient(
                practice=world.practice_a,
                birth_name=birth_name,
                used_name=used_name,
                given_names=givens[(index * 13) % len(givens)],
                sex=sex,
                birth_date=date(1940, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365)),
                city="Lyon",
            )
        )
    return world, Patient.objects.bulk_create(patients)


def quality_cases(patients: list[Patient]) -> list[Case]:
    rng = random.Random(2026)
    cases: list[Case] = []
    turn = Counter[str]()
    for number, patient in enumerate(patients):
        given = plain(patient.given_names)
        names = [("birth name", patient.birth_name), ("given names", patient.given_names)]
        if patient.used_name:
            names.append(("used name", patient.used_name))
        # The exact names, in both orders.
        family = plain(patient.birth_name)
        query = f"{family} {given}" if number % 2 else f"{given} {family}"
        cases.append(Case(query, patient.pk, "exact", "", exact=True))
        for which, name in names:
            other = given if which != "given names" else plain(patient.birth_name)
            word = typed_word(name)

            def typed(typo: str, other: str = other) -> str:
                return f"{typo} {other}" if rng.random() < 0.5 else f"{other} {typo}"

            if len(word) >= 4:
                # One error, the kind turning over the kinds and, for each kind, the
                # position over the word's letters.
                for kind in [ERRORS[turn["kind"] % len(ERRORS)]]:
                    turn["kind"] += 1
                    position = turn[kind] % len(word)
                    turn[kind] += 1
                    if kind == "transposition" and word[position : position + 2] in (
                        word[position] * 2,
                        "",
                    ):
                        continue  # swapping two equal letters is no error
                    typo = edit(word, kind, position, rng)
                    label = f"{kind} ({which})"
                    cases.append(Case(typed(typo), patient.pk, label, where(position, len(word))))
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
                    cases.append(Case(typed(typo), patient.pk, label, where(first, len(word))))
            # A French spelling of the name (one rule per case, turning over the rules).
            variants = list(french_variants(typed_word(name)))
            if variants:
                rule, variant = variants[turn["french"] % len(variants)]
                turn["french"] += 1
                cases.append(Case(typed(variant), patient.pk, f"French: {rule}", ""))
            # The beginning of the name, while typing (at least three letters).
            if len(word) >= 5 and number % 3 == 0:
                cases.append(
                    Case(typed(word[: max(3, len(word) - 2)]), patient.pk, "beginning", "")
                )
    return cases


def found(world: World, query: str) -> list[int]:
    actor = world.actor(world.sam)
    return [patient.pk for patient in patient_search(actor=actor, query=query)]


def test_the_search_finds_the_patient_despite_errors(
    registered: tuple[World, list[Patient]],
) -> None:
    world, patients = registered
    cases = quality_cases(patients)
    assert len(cases) >= 300
    in_five: dict[str, list[bool]] = defaultdict(list)
    positions: dict[str, set[str]] = defaultdict(set)
    missed: list[tuple[Case, list[int]]] = []
    exact_not_first: list[Case] = []
    for case in cases:
        results = found(world, case.query)
        hit = case.expected in results[:5]
        family = case.kind.split(" (")[0].split(":")[0]
        in_five[family].append(hit)
        if case.position:
            positions[family].add(case.position)
        if not hit:
            missed.append((case, results[:5]))
        if case.exact and (not results or results[0] != case.expected):
            exact_not_first.append(case)
    total = sum(len(hits) for hits in in_five.values())
    rate = sum(sum(hits) for hits in in_five.values()) / total
    print(f"\nsearch quality: {total} cases, expected patient in the first five: {rate:.2%}")
    for family, hits in sorted(in_five.items()):
        where_ = ", ".join(sorted(positions[family]))
        print(f"  {family:<20} {sum(hits):>4}/{len(hits):<4} {where_}")
    exact = [case for case in cases if case.exact]
    print(
        f"  exact queries with the patient first: {len(exact) - len(exact_not_first)}/{len(exact)}"
    )
    for case, _results in missed:
        print(f"  missed: {case.query!r} ({case.kind}, {case.position})")
    assert rate >= 0.99
    assert not exact_not_first, exact_not_first[:5]
    # Every kind of error was tried at the first, a middle and the last letter.
    for kind in ERRORS:
        assert positions[kind] == {"first", "middle", "last"}, (kind, positions[kind])


def test_a_query_two_edits_from_every_name_brings_back_little(
    registered: tuple[World, list[Patient]],
) -> None:
    world, patients = registered
    rng = random.Random(7)
    words = {
        word
        for patient in patients
        for name in (patient.birth_name, patient.used_name, patient.given_names)
        for word in plain(name).replace("-", " ").split()
    }
    queries = []
    for name in NAMES["family_names"]:
        word = typed_word(name)
        if len(word) < 5:
            continue
        for _attempt in range(20):
            first = rng.randrange(len(word))
            typo = edit(word, "substitution", first, rng)
            typo = edit(typo, "substitution", (first + 2) % len(typo), rng)
            # Two edits from every name, three from the names of 8 letters or more (two
            # edits are forgiven there: such a query is a match).
            if all(osa(typo, other) >= (3 if len(other) >= 8 else 2) for other in words):
                queries.append(typo)
                break
    counts = Counter(len(found(world, query)) for query in queries)
    print(f"\nnon-matching queries (two edits from every name): {len(queries)}")
    for results, how_many in sorted(counts.items()):
        print(f"  {how_many:>4} queries brought back {results} patient(s)")
    assert len(queries) >= 100
    assert max(counts) <= 5
