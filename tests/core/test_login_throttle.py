"""Failed logins cannot be turned against the users: limited per client address and per
username from one address, the same answer whether or not a username exists, and the
patient view's wrong codes never lock the account."""

from __future__ import annotations

import statistics
import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.accounts.models import Person
from tests.fixtures import PASSWORD, World, enroll, totp_code


def attempt(address: str, username: str, password: str = "wrong password"):  # noqa: S107
    client = Client(REMOTE_ADDR=address)
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_one_address_trying_many_usernames_is_refused_with_429_after_a_few(
    world: World, settings
) -> None:
    statuses = [attempt("203.0.113.7", f"someone.{n}").status_code for n in range(20)]
    limit = settings.CARNET_LOGIN_ADDRESS_MAX_FAILURES
    # The failure that reaches the limit is answered with the refusal already.
    assert statuses[: limit - 1] == [400] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    refused = attempt("203.0.113.7", "alice", PASSWORD)  # even the right password
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "depuis ce poste" in refused.content.decode()


def test_a_person_whose_username_was_attacked_logs_in_from_another_address_at_once(
    world: World,
) -> None:
    device = enroll(world.alice)
    for _ in range(10):
        attempt("203.0.113.7", "alice")
    assert attempt("203.0.113.7", "alice", PASSWORD).status_code in {400, 429}
    # Alice, at her own workstation: straight through both steps.
    alice = Client(REMOTE_ADDR="192.0.2.10")
    first = alice.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert first.status_code == 302 and first["Location"] == reverse("accounts:second-factor")
    second = alice.post(reverse("accounts:second-factor"), {"code": totp_code(device)})
    assert second.status_code == 302
    world.alice.refresh_from_db()
    assert not world.alice.is_locked()


def test_the_answer_for_an_unknown_username_is_the_same_as_for_a_known_one(
    world: World, monkeypatch
) -> None:
    """Same status and body, at every step up to the refusal; and the same work (one
    password hash each), so that timing tells nothing either."""
    enroll(world.alice)
    hashes: list[str] = []
    real_encode = MD5PasswordHasher.encode

    def counting_encode(self, password, salt):  # type: ignore[no-untyped-def]
        hashes.append(password)
        return real_encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)
    known, unknown = [], []
    for _ in range(7):
        hashes.clear()
        known.append(attempt("198.51.100.1", "alice"))
        known_hashes = len(hashes)
        hashes.clear()
        unknown.append(attempt("198.51.100.2", "alice.nobody"))
        assert len(hashes) == known_hashes
    for k, u in zip(known, unknown, strict=True):
        assert k.status_code == u.status_code
        body_k = k.content.decode().replace("alice", "USER")
        body_u = u.content.decode().replace("alice.nobody", "USER")
        assert _without_token(body_k) == _without_token(body_u)


def _without_token(body: str) -> str:
    import re

    # The CSRF token (in the form and in the page's htmx headers) differs on every page.
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", body)


def test_unknown_and_known_usernames_take_the_same_time_within_noise(world: World) -> None:
    """The real hasher: each answer costs one password hash, known username or not."""
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
        CARNET_LOGIN_ADDRESS_MAX_FAILURES=1000,
        CARNET_LOGIN_MAX_FAILURES=1000,
    ):
        person = Person.objects.get(pk=world.alice.pk)
        person.set_password(PASSWORD)
        person.save()
        known, unknown = [], []
        for n in range(9):
            for name, times in (("alice", known), ("nobody.here", unknown)):
                started = time.perf_counter()
                attempt(f"198.51.100.{n}", name)
                times.append(time.perf_counter() - started)
    ratio = statistics.median(unknown) / statistics.median(known)
    # A missing hash would make one side many times faster (PBKDF2 dominates).
    assert 0.5 < ratio < 2.0, (known, unknown)


def test_wrong_codes_from_one_address_also_count_towards_that_address(
    world: World, settings
) -> None:
    device = enroll(world.alice)
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    for _ in range(4):
        client.post(reverse("accounts:second-factor"), {"code": wrong})
    for n in range(settings.CARNET_LOGIN_ADDRESS_MAX_FAILURES - 4):
        attempt("203.0.113.9", f"other.{n}")
    assert attempt("203.0.113.9", "bob").status_code == 429


@pytest.fixture
def alice_in_patient_view(client: Client, world: World) -> Client:
    from tests.records.test_views import login, url

    alice = login(client, world.alice)
    assert alice.post(url(world, "vue-patient/")).status_code == 302
    return alice


def test_five_wrong_codes_in_the_patient_view_end_the_session_not_the_account(
    alice_in_patient_view: Client, world: World
) -> None:
    alice = alice_in_patient_view
    exit_url = f"/p/{world.practice_a.slug}/vue-patient/sortie/"
    for _ in range(4):
        alice.post(exit_url, {"code": "0000"})
        # Still in the patient view: any other page sends back to it.
        assert alice.get(f"/p/{world.practice_a.slug}/patients/")["Location"].endswith(
            "/vue-patient/"
        )
    response = alice.post(exit_url, {"code": "0000"})
    assert response["Location"] == reverse("accounts:login")
    world.alice.refresh_from_db()
    assert not world.alice.is_locked() and world.alice.failed_logins == 0
    # And Alice logs in again at once, from the same address.
    again = Client()
    first = again.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert first.status_code == 302


def test_the_patient_view_is_left_with_the_practitioner_pin(
    alice_in_patient_view: Client, world: World
) -> None:
    alice = alice_in_patient_view
    from core.accounts.services import patient_view_pin_set

    patient_view_pin_set(person=world.alice, current_password=PASSWORD, pin="4821")
    exit_url = f"/p/{world.practice_a.slug}/vue-patient/sortie/"
    alice.post(exit_url, {"code": PASSWORD})  # the password is not a way out
    assert alice.get(f"/p/{world.practice_a.slug}/patients/").status_code == 302
    alice.post(exit_url, {"code": "4821"})
    assert alice.get(f"/p/{world.practice_a.slug}/patients/").status_code == 200


def test_the_pin_is_stored_hashed_and_set_only_with_the_password(world: World) -> None:
    from django.core.exceptions import ValidationError

    from core.accounts.services import patient_view_pin_set

    with pytest.raises(ValidationError):
        patient_view_pin_set(person=world.alice, current_password="nope", pin="4821")
    with pytest.raises(ValidationError):
        patient_view_pin_set(person=world.alice, current_password=PASSWORD, pin="12")
    patient_view_pin_set(person=world.alice, current_password=PASSWORD, pin="4821")
    world.alice.refresh_from_db()
    assert world.alice.patient_view_pin and "4821" not in world.alice.patient_view_pin


def test_an_address_is_refused_only_while_its_window_lasts(world: World, settings) -> None:
    from datetime import timedelta

    from core.accounts.models import LoginThrottle

    for n in range(settings.CARNET_LOGIN_ADDRESS_MAX_FAILURES):
        attempt("203.0.113.50", f"x.{n}")
    assert attempt("203.0.113.50", "y").status_code == 429
    window = timedelta(minutes=settings.CARNET_LOGIN_ADDRESS_WINDOW_MINUTES + 1)
    LoginThrottle.objects.filter(key="address:203.0.113.50").update(
        window_start=timezone.now() - window
    )
    assert attempt("203.0.113.50", "y").status_code == 400
