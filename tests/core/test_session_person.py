"""A page's request reads who is logged in and the device that verified them together
(``core.accounts.backends.PersonBackend``, ``core.accounts.middleware.OTPMiddleware``):
django-otp's and Django's checks still refuse what they refused."""

from __future__ import annotations

import importlib
import time
from datetime import timedelta

from django.apps import apps as django_apps
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.middleware import LAST_SEEN
from core.accounts.models import Person, PersonSession
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


def test_the_session_its_person_and_their_devices_are_read_in_one_round_trip(
    client: Client, world: World
) -> None:
    session_for(client, world.alice, enroll(world.alice))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/p/{world.practice_a.slug}/").status_code == 200
    queries = [query["sql"] for query in captured.captured_queries]
    first = queries[0]
    assert '"accounts_session"' in first
    assert '"accounts_person"' in first
    assert '"otp_totp_totpdevice"' in first  # the devices go in the session's message
    assert not any('"otp_totp_totpdevice"' in sql for sql in queries[1:])
    assert not any('"accounts_session"' in sql for sql in queries[1:])


def test_the_login_names_the_person_in_the_sessions_row(client: Client, world: World) -> None:
    session_for(client, world.alice, enroll(world.alice))

    row = PersonSession.objects.get(session_key=client.session.session_key)

    assert row.person_id == world.alice.pk
    assert row.get_decoded()[SESSION_KEY] == str(world.alice.pk)


def test_a_session_whose_row_names_nobody_still_reads_its_person(
    client: Client, world: World
) -> None:
    # A row written without its person (the data names them): the person is read in a
    # round trip of their own, and the checks are the same.
    session_for(client, world.alice, enroll(world.alice))
    PersonSession.objects.filter(session_key=client.session.session_key).update(person=None)
    with CaptureQueriesContext(connection) as captured:
        assert practice_page(client, world) == 200
    queries = [query["sql"] for query in captured.captured_queries]
    assert '"otp_totp_totpdevice"' in queries[1] and '"accounts_session"' not in queries[1]


def test_a_session_whose_row_names_another_person_is_still_the_data_s_person(
    client: Client, world: World
) -> None:
    # The signed data decides who is logged in; the column only saves a round trip.
    session_for(client, world.alice, enroll(world.alice))
    enroll(world.bob)
    PersonSession.objects.filter(session_key=client.session.session_key).update(person=world.bob)

    response = client.get(f"/p/{world.practice_a.slug}/")

    assert response.status_code == 200
    assert response.wsgi_request.user.pk == world.alice.pk


def test_the_upgrade_moves_open_sessions_with_their_person(world: World) -> None:
    plain = SessionStore()
    named = {SESSION_KEY: str(world.alice.pk)}
    Session.objects.create(
        session_key="open-alice",
        session_data=plain.encode(named),
        expire_date=timezone.now() + timedelta(hours=1),
    )
    Session.objects.create(
        session_key="open-gone",
        session_data=plain.encode({SESSION_KEY: "99999999"}),
        expire_date=timezone.now() + timedelta(hours=1),
    )
    Session.objects.create(
        session_key="expired",
        session_data=plain.encode(named),
        expire_date=timezone.now() - timedelta(hours=1),
    )
    migration = importlib.import_module("core.accounts.migrations.0007_person_session")

    migration.move_open_sessions(django_apps, None)

    moved = dict(PersonSession.objects.values_list("session_key", "person_id"))
    assert moved == {"open-alice": world.alice.pk, "open-gone": None}
    assert PersonSession.objects.get(session_key="open-alice").get_decoded() == named
    assert not Session.objects.exists()


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
