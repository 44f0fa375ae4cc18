"""A person changes their own password from "Mon compte": the current one to confirm,
the node's rules, typed twice; the session stays open, the old password stops working,
the change is in the audit trail; a bad form changes nothing, in French and English."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from tests.core.test_cooperative_page import events
from tests.fixtures import PASSWORD, World
from tests.records.test_views import login

NEW = "marronnier tilleul 1987"


def change(client: Client, language: str = "fr", **fields: str) -> tuple[int, str]:
    data = {"form": "password", "current_password": PASSWORD, "new_password": NEW, "repeated": NEW}
    data.update(fields)
    response = client.post("/profil/", data, HTTP_ACCEPT_LANGUAGE=language)
    return response.status_code, unescape(response.content.decode())


def test_a_person_changes_their_password_and_stays_logged_in(client: Client, world: World) -> None:
    alice = login(client, world.alice)
    status, _ = change(alice)
    assert status == 302
    assert alice.get("/profil/").status_code == 200  # the session stays open
    world.alice.refresh_from_db()
    assert world.alice.check_password(NEW) and not world.alice.check_password(PASSWORD)
    assert [outcome for outcome, *_ in events("account.password_changed", world.alice)] == [
        "success"
    ]


@pytest.mark.parametrize(
    ("fields", "french", "english"),
    [
        ({"current_password": "faux"}, "Mot de passe incorrect", "Wrong password"),
        (
            {"repeated": NEW + "x"},
            "Les deux nouveaux mots de passe diffèrent",
            "The two new passwords differ",
        ),
        ({"new_password": "court", "repeated": "court"}, "trop court", "too short"),
        (
            {"new_password": PASSWORD, "repeated": PASSWORD},
            "autre que l'actuel",
            "other than the current one",
        ),
    ],
)
def test_a_bad_change_is_refused_in_both_languages_and_changes_nothing(
    client: Client, world: World, fields: dict[str, str], french: str, english: str
) -> None:
    alice = login(client, world.alice)
    for language, words in (("fr", french), ("en", english)):
        status, page = change(alice, language, **fields)
        assert status == 400 and words in page, (language, page[-2000:])
    world.alice.refresh_from_db()
    assert world.alice.check_password(PASSWORD)
    assert events("account.password_changed", world.alice) == []
