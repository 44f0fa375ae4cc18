"""A page's request reads who is logged in and the device that verified them together
(``core.accounts.backends.PersonBackend``, ``core.accounts.middleware.OTPMiddleware``):
django-otp's and Django's checks still refuse what they refused."""

from __future__ import annotations

import time

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.middleware import LAST_SEEN
from core.accounts.models import Person
from tests.core.test_login import all_events
from tests.fixtures import World, enroll

PERSON_BACKEND = "core.accounts.backends.PersonBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_for(
    client: Client, person: Person, device: TOTPDevice | None, backend: str = PERSON_BACKEND
) -> None:
    """A session as the login leaves it, naming ``device`` as the second factor."""
    session = client.session
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[LAST_SEEN] = time.time()
    session.save()
    client.cookies["sessionid"] = session.session_key


def practice_page(client: Client, world: World) -> int:
    return client.get(f"/p/{world.practice_a.slug}/").status_code


def test_a_verified_session_opens_the_practice(client: Client, world: World) -> None:
    session_for(client, world.alice, enroll(world.alice))
    assert practice_page(client, world) == 200


def test_the_person_and_their_devices_are_read_in_one_round_trip(
    client: Client, world: World
) -> None:
    session_for(client, world.alice, enroll(world.alice))
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/p/{world.practice_a.slug}/")
    person_reads = [
        query["sql"] for query in captured.captured_queries if '"accounts_person"' in query["sql"]
    ]
    first = person_reads[0]
    assert '"otp_totp_totpdevice"' in first  # the devices go in the person's message
    assert not any(
        '"otp_totp_totpdevice"' in query["sql"] and query["sql"] != first
        for query in captured.captured_queries
    )


def test_a_session_from_before_under_djangos_backend_still_works(
    client: Client, world: World
) -> None:
    session_for(client, world.alice, enroll(world.alice), backend=MODEL_BACKEND)
    assert practice_page(client, world) == 200


def test_a_device_of_another_person_does_not_verify(client: Client, world: World) -> None:
    enroll(world.alice)
    session_for(client, world.alice, enroll(world.bob))
    assert practice_page(client, world) == 302
    assert ("logout.unverified", "success", "alice") in all_events()


def test_a_device_not_confirmed_does_not_verify(client: Client, world: World) -> None:
    device = TOTPDevice.objects.create(user=world.alice, name="new", confirmed=False)
    session_for(client, world.alice, device)
    assert practice_page(client, world) == 302
    assert ("logout.unverified", "success", "alice") in all_events()


def test_a_session_without_a_device_does_not_verify(client: Client, world: World) -> None:
    enroll(world.alice)
    session_for(client, world.alice, None)
    assert practice_page(client, world) == 302
    assert ("logout.unverified", "success", "alice") in all_events()


def test_a_session_naming_a_kind_of_device_carnet_does_not_install_does_not_verify(
    client: Client, world: World
) -> None:
    device = enroll(world.alice)
    session_for(client, world.alice, device)
    session = client.session
    # Alice's own device's number, under another kind's name
    session[DEVICE_ID_SESSION_KEY] = f"otp_static.staticdevice/{device.pk}"
    session.save()
    assert practice_page(client, world) == 302
    assert ("logout.unverified", "success", "alice") in all_events()


def test_a_device_removed_since_the_login_no_longer_verifies(client: Client, world: World) -> None:
    device = enroll(world.alice)
    session_for(client, world.alice, device)
    assert practice_page(client, world) == 200
    device.delete()
    assert practice_page(client, world) == 302


def test_a_deactivated_person_is_logged_out(client: Client, world: World) -> None:
    session_for(client, world.alice, enroll(world.alice))
    Person.objects.filter(pk=world.alice.pk).update(is_active=False)
    assert practice_page(client, world) == 302


def test_a_changed_password_ends_the_other_sessions(client: Client, world: World) -> None:
    session_for(client, world.alice, enroll(world.alice))
    world.alice.set_password("Un autre mot de passe, bien plus long 42")
    world.alice.save()
    assert practice_page(client, world) == 302


def test_a_session_naming_a_person_who_is_gone_is_anonymous(client: Client, world: World) -> None:
    session_for(client, world.alice, enroll(world.alice))
    session = client.session
    session[SESSION_KEY] = "99999999"
    session.save()
    assert practice_page(client, world) == 302
