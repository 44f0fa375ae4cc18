"""Logging in: password then second factor, throttling, audit of every outcome."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from core.audit.models import AuditEvent
from tests.fixtures import PASSWORD, World, enroll, totp_code


def actions_for(username: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor_label=username)
        .order_by("chain", "seq")
        .values_list("action", flat=True)
    )


def all_events() -> list[tuple[str, str, str]]:
    """Node-level events are invisible under RLS for the app role: read as the owner."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL ROLE carnet_owner")
        cursor.execute("SELECT action, outcome, actor_label FROM audit_event ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute("SET ROLE carnet_app")
    return rows


def password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_the_login_page_is_served(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_correct_password_alone_does_not_log_a_practitioner_in(
    client: Client, world: World
) -> None:
    enroll(world.alice)
    response = password_step(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:second-factor")
    # Not logged in: the practice page still redirects to the login page.
    response = client.get(f"/p/{world.practice_a.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    response = client.get(f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/")
    assert response.status_code == 302


def test_the_second_factor_completes_the_login(client: Client, world: World) -> None:
    device = enroll(world.alice)
    password_step(client, "alice")
    response = client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    assert response.status_code == 302
    # Alice works in one practice: the home page takes her straight to it.
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"] == f"/p/{world.practice_a.slug}/"
    response = client.get(f"/p/{world.practice_a.slug}/")
    assert response.status_code == 200
    assert ("login", "success", "alice") in all_events()


def test_a_wrong_code_does_not_log_in(client: Client, world: World) -> None:
    device = enroll(world.alice)
    password_step(client, "alice")
    wrong = f"{(int(totp_code(device)) + 1) % 1000000:06d}"
    response = client.post(reverse("accounts:second-factor"), {"code": wrong})
    assert response.status_code == 400
    assert client.get(f"/p/{world.practice_a.slug}/").status_code == 302
    assert ("login.failed", "failure", "alice") in all_events()


def test_the_right_code_just_after_a_wrong_one_says_to_wait_not_that_it_is_wrong(
    client: Client, world: World
) -> None:
    device = enroll(world.alice)
    password_step(client, "alice")
    right = totp_code(device)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    client.post(reverse("accounts:second-factor"), {"code": wrong})
    # The device holds verification back for a second after a wrong code.
    response = client.post(reverse("accounts:second-factor"), {"code": right})
    assert response.status_code == 400
    page = response.content.decode()
    assert "attendez 1 seconde" in page and "Code incorrect" not in page
    events = [e for e in all_events() if e[0] == "login.failed" and e[2] == "alice"]
    assert len(events) == 2  # it still counts towards the lock
    # Once the moment has passed, the right code logs in.
    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(seconds=2)
    device.save(update_fields=["throttling_failure_timestamp"])
    response = client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    assert response.status_code == 302


def test_a_person_without_a_device_enrolls_with_a_qr_code(client: Client, world: World) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    password_step(client, "bob")
    response = client.get(reverse("accounts:second-factor"))
    assert response.status_code == 200
    assert b"<svg" in response.content
    device = TOTPDevice.objects.get(user=world.bob, confirmed=False)
    response = client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert ("second_factor.enrolled", "success", "bob") in all_events()


def test_the_code_step_without_the_password_step_goes_back_to_login(
    client: Client, world: World
) -> None:
    response = client.post(reverse("accounts:second-factor"), {"code": "123456"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_five_wrong_passwords_refuse_the_username_from_that_address(
    client: Client, world: World
) -> None:
    enroll(world.alice)
    for _ in range(5):
        response = password_step(client, "alice", "wrong password")
        assert response.status_code == 400
    # Now even the right password is refused from this address, with a clear message.
    response = password_step(client, "alice")
    assert response.status_code == 400
    assert "Trop de tentatives" in response.content.decode()
    world.alice.refresh_from_db()
    assert not world.alice.is_locked()  # the account itself is not locked
    events = all_events()
    assert [e for e in events if e[0] == "login.failed" and e[2] == "alice"].__len__() == 5
    assert ("account.locked", "denied", "alice") in events
    assert ("login.refused", "denied", "alice") in events


def test_wrong_codes_count_towards_the_lock(client: Client, world: World) -> None:
    device = enroll(world.alice)
    password_step(client, "alice")
    for _ in range(5):
        client.post(
            reverse("accounts:second-factor"),
            {"code": "000000" if totp_code(device) != "000000" else "111111"},
        )
    world.alice.refresh_from_db()
    assert world.alice.is_locked()


def test_an_unknown_username_is_audited_without_revealing_it_does_not_exist(
    client: Client, db: None
) -> None:
    response = password_step(client, "nobody")
    assert response.status_code == 400
    assert ("login.failed", "failure", "nobody") in all_events()
    known = password_step(Client(), "nobody2", "x")
    assert known.content.count(b"errors") == response.content.count(b"errors")


def test_logout_is_audited(client: Client, world: World) -> None:
    device = enroll(world.alice)
    password_step(client, "alice")
    client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert ("logout", "success", "alice") in all_events()
    assert client.get(f"/p/{world.practice_a.slug}/").status_code == 302


def test_an_idle_session_is_logged_out(client: Client, world: World, settings) -> None:
    device = enroll(world.alice)
    password_step(client, "alice")
    client.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    session = client.session
    session["carnet_last_seen"] = time.time() - (settings.CARNET_IDLE_TIMEOUT_MINUTES * 60 + 5)
    session.save()
    response = client.get(f"/p/{world.practice_a.slug}/")
    assert response.status_code == 302
    assert ("logout.idle", "success", "alice") in all_events()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "alice"},
        {"username": "", "password": ""},
        {"username": "a" * 5000, "password": "x"},
        {"username": "alice\x00", "password": "x"},
    ],
)
def test_a_malformed_login_gets_a_clear_error_not_a_500(client: Client, world: World, data) -> None:
    response = client.post(reverse("accounts:login"), data)
    assert response.status_code == 400
    assert b"errors" in response.content or b"errorlist" in response.content
