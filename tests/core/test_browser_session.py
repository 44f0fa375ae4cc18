"""A browser's session middleware runs for pages and session calls, and not for a call
carrying an API token (core.accounts.middleware.BrowserSessionMiddleware)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import reverse

from core import tenancy
from core.accounts import services
from core.accounts.middleware import LAST_SEEN, BrowserSessionMiddleware
from tests.fixtures import World, enroll, totp_code


def logged_in(client: Client, username: str, person) -> Client:  # type: ignore[no-untyped-def]
    device = enroll(person)
    client.post(
        reverse("accounts:login"),
        {"username": username, "password": "correct horse battery staple"},
    )
    client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    return client


def alice_token(world: World) -> str:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    return plaintext


def test_a_token_call_is_its_token_s_person_and_leaves_the_session_alone(
    client: Client, world: World
) -> None:
    """Charlie (practice B) is logged in on this browser; a call naming Alice's token is
    Alice's, reads nothing of Charlie's session and writes nothing to it."""
    logged_in(client, "charlie", world.charlie)
    session = client.session
    session[LAST_SEEN] = 1.0  # long idle: the session middleware would log Charlie out
    session.save()
    response = client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {alice_token(world)}")
    assert response.status_code == 200
    assert [p["birth_name"] for p in response.json()] == ["Dupont"]
    assert "Cookie" not in response.get("Vary", "")  # the session was never read
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert client.session[LAST_SEEN] == 1.0


def test_a_token_call_keeps_every_header_a_session_call_gets(client: Client, world: World) -> None:
    token = alice_token(world)
    by_token = Client().get(
        "/api/v1/patients/", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="fr"
    )
    by_session = logged_in(client, "alice", world.alice).get(
        "/api/v1/patients/", HTTP_X_CARNET_PRACTICE="cabinet-a", HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert by_token.status_code == by_session.status_code == 200
    session_only = {"vary", "set-cookie"}
    assert {name.lower() for name in by_token.headers} - session_only == {
        name.lower() for name in by_session.headers
    } - session_only
    for name in ("Content-Security-Policy", "X-Frame-Options", "Cache-Control", "Referrer-Policy"):
        assert by_token[name] == by_session[name]
    assert by_token["Content-Language"] == "fr"


def test_a_refused_token_is_told_in_the_caller_s_language(db: None) -> None:
    for language, words in (("fr", "Jeton"), ("en", "token")):
        response = Client().get(
            "/fhir/r4/Patient/1",
            HTTP_AUTHORIZATION="Bearer carnet_nope_nope",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 401
        assert words in response.content.decode()


def test_a_bearer_header_on_a_page_keeps_the_browser_s_session(
    client: Client, world: World
) -> None:
    """Only the API and FHIR read tokens: a page is the session's, whatever the headers."""
    logged_in(client, "alice", world.alice)
    page = client.get(
        reverse(
            "records:chart", kwargs={"practice_slug": "cabinet-a", "patient_id": world.paul.pk}
        ),
        HTTP_AUTHORIZATION="Bearer carnet_nope_nope",
    )
    assert page.status_code == 200
    assert "DUPONT" in page.content.decode()


def test_a_session_call_to_the_api_still_has_its_session(client: Client, world: World) -> None:
    response = logged_in(client, "alice", world.alice).get(
        "/api/v1/patients/", HTTP_X_CARNET_PRACTICE="cabinet-a"
    )
    assert response.status_code == 200
    assert "Cookie" in response["Vary"]


def test_without_a_session_a_page_sends_to_the_login(client: Client, db: None) -> None:
    """LoginRequiredMiddleware, listed after BrowserSessionMiddleware, sees the person
    the session middleware found (the reason auth.E013 is silenced)."""
    response = client.get("/p/cabinet-a/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_middleware_hooking_the_view_cannot_be_listed_in_the_session(db: None) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    hooked = [*settings.SESSION_MIDDLEWARE, "django.middleware.csrf.CsrfViewMiddleware"]
    with (
        override_settings(SESSION_MIDDLEWARE=hooked),
        pytest.raises(ImproperlyConfigured, match="process_view"),
    ):
        BrowserSessionMiddleware(view)
