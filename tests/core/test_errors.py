"""Bad input gets a clear error page or JSON error, never a 500."""

from __future__ import annotations

import json

from django.test import Client
from django.urls import reverse

from tests.fixtures import World, enroll, totp_code


def logged_in(client: Client, world: World) -> Client:
    device = enroll(world.alice)
    client.post(
        reverse("accounts:login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    return client


def test_an_unknown_practice_gets_a_clear_404_page(client: Client, world: World) -> None:
    response = logged_in(client, world).get("/p/no-such-practice/")
    assert response.status_code == 404
    assert "Cabinet inconnu" in response.content.decode()


def test_an_unknown_practice_in_english(client: Client, world: World) -> None:
    response = logged_in(client, world).get("/p/no-such-practice/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "Unknown practice" in response.content.decode()


def test_a_refusal_page_shows_no_english_code_in_french(client: Client, world: World) -> None:
    """The code is for machines: in an attribute, not in the text ("Code: forbidden")."""
    response = logged_in(client, world).get(f"/p/{world.practice_b.slug}/")
    page = response.content.decode()
    assert response.status_code == 403
    assert 'data-error-code="forbidden"' in page
    assert ">forbidden<" not in page and "Code:" not in page


def test_another_practice_is_refused_and_audited(client: Client, world: World) -> None:
    from tests.core.test_login import all_events

    response = logged_in(client, world).get(f"/p/{world.practice_b.slug}/")
    assert response.status_code == 403
    assert ("access.denied", "denied", "alice") in all_events()


def test_an_oversized_body_gets_413_json(client: Client, world: World) -> None:
    body = "x" * (3 * 1024 * 1024)
    response = client.post(
        "/api/v1/patients/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer x",
    )
    assert response.status_code in (401, 413)
    response = client.post(reverse("accounts:login"), data={"username": "a", "password": body})
    assert response.status_code == 413


def test_an_unknown_api_path_gets_a_json_404(client: Client, db: None) -> None:
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert json.loads(response.content)["error"]["code"] == "not_found"


def test_an_unknown_page_gets_a_page_not_a_500(client: Client, world: World) -> None:
    response = logged_in(client, world).get("/nothing-here/")
    assert response.status_code == 404
    assert b"<html" in response.content


def test_the_health_check_reports_the_database(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "service": "all"}


def test_a_bad_date_in_a_search_is_not_a_500(client: Client, world: World) -> None:
    response = logged_in(client, world).get(f"/p/{world.practice_a.slug}/patients/?q=31/02/2020")
    assert response.status_code == 200
