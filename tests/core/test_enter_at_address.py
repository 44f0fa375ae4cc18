"""Entering a practice by its address (every practice page): the tenant, the practice
and the person's roles in one round trip; the tenant's practice set only where the
person works; a refusal as before (unknown address, closed practice, not a member)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext

from core import read_ahead, tenancy
from core.accounts.models import Membership, Person
from core.audit.models import AuditEvent
from core.practices.context import UnknownPractice, enter_practice_at
from core.practices.models import Practice
from core.practices.selectors import entering_by_address
from core.prepared import fetch_together
from records import selectors
from tests.core.test_api_tokens import database_tenant
from tests.fixtures import World


def as_a_page_request(person: Person) -> None:
    """As the request's transaction starts for a logged-in person: their id known, not
    sent to the database yet (the message entering the practice sends it)."""
    tenancy.activate(None, None)  # nothing set in the database, as in a new transaction
    tenancy.forget()
    tenancy.activate_person(person.pk)


def test_a_member_enters_with_the_roles_in_one_round_trip(world: World) -> None:
    as_a_page_request(world.alice)
    with CaptureQueriesContext(connection) as captured:
        actor = enter_practice_at(HttpRequest(), world.alice, world.practice_a.slug)
    assert len(captured.captured_queries) == 1
    assert actor.roles == frozenset({"practitioner"})
    assert database_tenant() == (str(world.practice_a.pk), str(world.alice.pk))
    assert tenancy.current() == tenancy.Tenant(
        world.practice_a.pk, world.alice.pk, world.practice_a.care_team_mode
    )


def test_the_practice_is_set_only_where_the_person_works(world: World) -> None:
    as_a_page_request(world.charlie)  # of practice B only
    fetch_together(*entering_by_address(world.charlie.pk, world.practice_a.slug))
    assert database_tenant() == ("", str(world.charlie.pk))
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    Membership.objects.filter(person=world.alice).update(is_active=False)
    as_a_page_request(world.alice)
    fetch_together(*entering_by_address(world.alice.pk, world.practice_a.slug))
    assert database_tenant() == ("", str(world.alice.pk))


def test_a_non_member_is_refused_audited_and_keeps_nothing_read_ahead(world: World) -> None:
    as_a_page_request(world.charlie)
    key, statements = selectors.patient_reads_ahead(world.paul.pk)
    with read_ahead.request_scope():
        with pytest.raises(PermissionDenied):
            enter_practice_at(
                HttpRequest(), world.charlie, world.practice_a.slug, ahead=(key, statements)
            )
        assert read_ahead.take(key) is None
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert AuditEvent.objects.filter(actor_id=world.charlie.pk, action="access.denied").exists()


def test_a_left_member_is_refused(world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    Membership.objects.filter(person=world.bob).update(is_active=False)
    as_a_page_request(world.bob)
    with pytest.raises(PermissionDenied):
        enter_practice_at(HttpRequest(), world.bob, world.practice_a.slug)


@pytest.mark.parametrize("closed", [False, True], ids=["unknown address", "closed practice"])
def test_an_unknown_or_closed_practice_is_not_found(world: World, closed: bool) -> None:
    slug = world.practice_a.slug if closed else "nulle-part"
    if closed:
        tenancy.activate(world.practice_a.pk, world.alice.pk)
        Practice.objects.filter(pk=world.practice_a.pk).update(is_active=False)
    as_a_page_request(world.alice)
    with pytest.raises(UnknownPractice):
        enter_practice_at(HttpRequest(), world.alice, slug)
    assert database_tenant()[0] == ""
