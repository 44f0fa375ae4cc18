"""Never filed on a guess: over generated identities — the right one, one with a typo in
a name, a day off in the birth date, the other sex, a homonym — a result finds a patient
only when exactly one patient of the practice carries that identity exactly (case and
accents aside), and that patient is the one found."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.parsing import Identity
from lab.services.matching import certain_patient
from tests.factories import PatientFactory
from tests.fixtures import World

PEOPLE = [
    ("Dupont", "Paul", date(1970, 5, 17), "M"),
    ("Lefèvre", "Élodie", date(1985, 2, 3), "F"),
    ("Martin", "Jeanne", date(1950, 11, 30), "F"),
    ("Martin", "Jeanne", date(1950, 11, 30), "F"),  # homonyms: same name, same birth
    ("Nguyen", "Van", date(2001, 7, 8), "M"),
    ("Baron", "Julien", date(1992, 4, 12), "M"),
]


def fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


def typo(word: str, position: int, letter: str) -> str:
    position %= len(word)
    return word[:position] + letter + word[position + 1 :]


@st.composite
def identities(draw: st.DrawFn) -> Identity:
    family, given_name, birth, sex = draw(st.sampled_from(PEOPLE))
    change = draw(st.sampled_from(["none", "family", "given", "birth", "sex", "case"]))
    if change == "family":
        family = typo(family, draw(st.integers(0, 20)), draw(st.sampled_from("aeiouxz")))
    elif change == "given":
        given_name = typo(given_name, draw(st.integers(0, 20)), draw(st.sampled_from("aeiouxz")))
    elif change == "birth":
        birth += timedelta(days=draw(st.sampled_from([-1, 1, 365])))
    elif change == "sex":
        sex = "F" if sex == "M" else "M"
    elif change == "case":
        family, given_name = fold(family).upper(), fold(given_name).upper()
    return Identity(family=family, given=given_name, birth_date=birth, sex=sex)


def test_a_result_finds_a_patient_only_when_exactly_one_carries_its_identity(
    world: World,
) -> None:
    world.actor(world.alice)
    made = [
        PatientFactory(
            practice=world.practice_a,
            gp=world.alice,
            birth_name=family,
            given_names=given_name,
            birth_date=birth,
            sex=sex,
            nir="",
        )
        for family, given_name, birth, sex in PEOPLE
    ]
    everyone = [*made, world.paul]

    @settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(identities())
    def check(identity: Identity) -> None:
        found = certain_patient(identity).patient
        carriers = [
            p
            for p in everyone
            if fold(p.birth_name) == fold(identity.family)
            and fold(p.given_names) == fold(identity.given)
            and p.birth_date == identity.birth_date
            and p.sex == identity.sex
        ]
        if found is None:
            assert len(carriers) != 1, f"{identity} has one patient, not found"
        else:
            assert [found.id] == [p.pk for p in carriers], f"{identity} filed on a guess"

    check()
