"""Production hardening: Django's deployment checks, security headers, CSRF, session
fixation, token revocation."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.test import Client, override_settings
from django.urls import reverse

from tests.fixtures import World, enroll, totp_code


def test_the_deployment_checks_pass_with_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carnet.settings",
        "DATABASE_URL": "postgresql://carnet_app@/carnet?host=/nonexistent",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "carnet.example.org",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_SSL_REDIRECT": "true",
        "BEHIND_PROXY": "true",
        "CARNET_VAR_DIR": str(tmp_path),
    }
    env.pop("CARNET_DATABASE_ROLE", None)
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_pages_carry_the_security_headers(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@override_settings(SECURE_HSTS_SECONDS=31536000)
def test_https_responses_carry_hsts(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_form_posted_without_its_csrf_token_is_refused(db: None) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert (
        "Rechargez la page" in response.content.decode()
        or "Reload the page" in response.content.decode()
    )


def test_the_session_key_changes_at_login(client: Client, world: World) -> None:
    """Session fixation: a key known before login is worthless after it."""
    device = enroll(world.alice)
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    client.post(
        reverse("accounts:login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    middle = client.session.session_key
    client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    after = client.session.session_key
    assert len({before, middle, after}) == 3


def test_patient_pages_and_api_answers_are_not_kept_by_the_browser(
    client: Client, world: World
) -> None:
    """A lost or shared workstation: no page of a record in the browser's cache, and no
    copy kept by htmx for the back button; static files stay cacheable."""
    device = enroll(world.alice)
    client.post(
        reverse("accounts:login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    chart = client.get(
        reverse("records:chart", kwargs={"practice_slug": "cabinet-a", "patient_id": world.paul.pk})
    )
    assert chart.status_code == 200
    assert chart["Cache-Control"] == "no-store"
    assert '"historyCacheSize": 0' in chart.content.decode()
    api = client.get("/api/v1/patients/", HTTP_X_CARNET_PRACTICE="cabinet-a")
    assert api.status_code == 200 and api["Cache-Control"] == "no-store"
    static = client.get("/static/core/carnet.css")
    assert "no-store" not in static.get("Cache-Control", "")
