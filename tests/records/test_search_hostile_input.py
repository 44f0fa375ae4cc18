"""Every search box, page and API, with input no person types: a NUL byte, a lone
surrogate, control characters, 10,000 characters, SQL and LIKE metacharacters. Each gets
a clear 400 or an empty result, never a 500 (issue 16: ``?q=%00abc`` was a 500)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from records import reference
from records.selectors import patient_search
from tests.fixtures import World
from tests.records.test_api import Api, api_for
from tests.records.test_reference import loaded, reference_data  # noqa: F401 - fixtures
from tests.records.test_views import login

# Refused with a message: no person could have typed them.
REFUSED = ["\x00abc", "abc\x00", "dup\x00ont", "\x07", "a\x1bb"]
# Searched as text: nothing (or only what their letters spell) comes back.
METACHARACTERS = [
    "%",
    "_",
    "%%",
    "\\",
    "%_%",
    "dup%",
    "d_pont",
    "' OR 1=1 --",
    "'; DROP TABLE records_patient; --",
    '" OR ""="',
    "[a-z]*",
    ".*",
    "$$",
    "%(t0)s",
    "{columns}",
    "\\x00",
]
LONG = ["a" * 10_000, "é" * 10_000, "dupont " * 1_500, "%" * 10_000]
# The UTF-8 bytes of a lone surrogate and other invalid bytes, as a browser may send.
RAW_QUERY_STRINGS = ["q=%ED%A0%80", "q=%FF%FE", "q=%C0%80", "q=%00abc", "q=abc%00"]

PAGES = ["patients/", "medicaments/", "allergenes/", "cim10/", "vaccins/"]
API = ["patients/", "drugs/", "cim10/", "substances/", "atc-classes/"]


@pytest.fixture
def alice_page(client: Client, world: World) -> Client:
    return login(client, world.alice)


@pytest.fixture
def alice_api(client: Client, world: World) -> Api:
    return api_for(Client(), world, world.alice)


def page_url(world: World, path: str) -> str:
    return f"/p/{world.practice_a.slug}/{path}"


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("path", PAGES)
def test_a_page_refuses_a_query_no_person_types(
    alice_page: Client, world: World, path: str
) -> None:
    for query in REFUSED:
        response = alice_page.get(page_url(world, path), {"q": query})
        assert response.status_code == 400, (query, response.status_code)
        assert "contient un caractère" in response.content.decode()


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("path", API)
def test_the_api_refuses_a_query_no_person_types(alice_api: Api, path: str) -> None:
    for query in REFUSED:
        response = alice_api.get(f"{path}?q={quote(query)}")
        assert response.status_code == 400, (query, response.status_code)
        assert "q" in response.content.decode()


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("path", PAGES)
def test_a_page_survives_bytes_that_are_not_text(
    alice_page: Client, world: World, path: str
) -> None:
    for raw in RAW_QUERY_STRINGS:
        response = alice_page.get(page_url(world, path), QUERY_STRING=raw)
        assert response.status_code in (200, 400), (raw, response.status_code)


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("path", API)
def test_the_api_survives_bytes_that_are_not_text(alice_api: Api, path: str) -> None:
    for raw in RAW_QUERY_STRINGS:
        response = alice_api.get(f"{path}?{raw}")
        assert response.status_code in (200, 400), (raw, response.status_code)
        if response.status_code == 200:
            assert response.json() == [], raw


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("path", API)
def test_the_api_finds_nothing_with_metacharacters_or_very_long_queries(
    alice_api: Api, path: str
) -> None:
    for query in METACHARACTERS + LONG:
        response = alice_api.get(f"{path}?q={quote(query)}")
        assert response.status_code == 200, (query[:20], response.status_code)
        found = response.json()
        if path == "patients/" and query.startswith("dupont "):
            assert found  # the letters spell a patient's name: Paul Dupont
        elif not any(character.isalpha() for character in query):
            # A wildcard is a character like any other: it matches nothing.
            assert found == [], (query[:20], found[:3])
        else:
            # Letters around metacharacters are searched as letters ("dup%" finds
            # DUPHASTON as "dup" would), never as a pattern that matches everything.
            assert len(found) <= 50, query[:20]


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize("path", PAGES)
def test_a_page_answers_metacharacters_and_very_long_queries(
    alice_page: Client, world: World, path: str
) -> None:
    for query in METACHARACTERS + LONG:
        response = alice_page.get(page_url(world, path), {"q": query})
        assert response.status_code == 200, (query[:20], response.status_code)


@pytest.mark.usefixtures("reference_data")
def test_the_search_functions_find_nothing_for_input_no_person_types(world: World) -> None:
    actor = world.actor(world.alice)
    for query in [*REFUSED, "\ud800", "abc\udfff", "%", "_", "%_%", "\\", "%" * 10_000]:
        assert patient_search(actor=actor, query=query) == [], query[:20]
        assert reference.drug_search(query) == [], query[:20]
        assert reference.cim10_search(query) == [], query[:20]
        assert reference.substance_search(query) == [], query[:20]
        assert reference.atc_search(query) == [], query[:20]


@pytest.mark.usefixtures("reference_data")
@pytest.mark.parametrize(
    ("search", "typed"),
    [(reference.drug_search, "doli{}rane"), (reference.cim10_search, "diab{}te")],
    ids=["drugs", "cim10"],
)
def test_a_like_wildcard_in_a_word_is_a_typo_not_a_pattern(search: Any, typed: str) -> None:
    """A wildcard finds what any other wrong character in its place finds (one typo
    forgiven), never every name; alone, it finds nothing."""
    as_letter = [str(found) for found in search(typed.format("x"), limit=50)]
    assert as_letter  # one typo: the names are found
    for wildcard in ("%", "_", "\\", "'"):
        assert search(wildcard) == [], wildcard
        assert search(wildcard * 3) == [], wildcard
        if wildcard in ("%", "\\"):  # "_" and "'" separate words, as in the names
            found = [str(found) for found in search(typed.format(wildcard), limit=50)]
            assert found == as_letter, wildcard
