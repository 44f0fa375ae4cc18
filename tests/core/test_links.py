"""Links reversed once: the same addresses as Django's ``reverse``, and a kept pattern per
name and practice, never per id (a node's patients would crowd the patterns out)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix

from core import links, navigation
from core.access.policy import Actor
from core.links import ID, by_id, by_ids
from tests.fixtures import World


def test_the_addresses_are_djangos() -> None:
    for pk in (1, 42, 987654):
        assert by_id("records:chart", "cab-a")(pk) == reverse("records:chart", args=["cab-a", pk])
        assert by_ids("records:entry-correct", "cab-a", ID, "problem", ID)(pk, 7) == reverse(
            "records:entry-correct", args=["cab-a", pk, "problem", 7]
        )
        assert by_ids("records:document", "cab-a", ID, ID)(3, pk) == reverse(
            "records:document", args=["cab-a", 3, pk]
        )


def test_the_patterns_kept_do_not_grow_with_the_ids() -> None:
    links._pattern.cache_clear()
    for pk in range(1, 200):
        by_ids("records:entry-correct", "cab-a", ID, "encounter", ID)(pk, pk + 1)
        by_id("records:chart", "cab-a")(pk)
    assert links._pattern.cache_info().currsize == 2
    by_id("records:chart", "cab-b")(1)  # another practice's address: its own pattern
    assert links._pattern.cache_info().currsize == 3


def test_an_address_without_ids_is_djangos_under_any_prefix() -> None:
    assert links.url("accounts:profile") == reverse("accounts:profile")
    assert links.url("practices:home", "cab-a") == reverse("practices:home", args=["cab-a"])
    assert links.url("practices:home", "cab-b") == reverse("practices:home", args=["cab-b"])
    set_script_prefix("/carnet/")
    try:
        assert links.url("accounts:profile") == reverse("accounts:profile") == "/carnet/profil/"
    finally:
        set_script_prefix("/")
    assert links.url("accounts:profile") == "/profil/"


def test_an_address_kept_for_one_configuration_is_not_given_in_another(db: None) -> None:
    """The gateway's configuration has no source page: the address the node's gave is not
    served from the kept patterns there, and the gateway's refusal is not kept either."""
    from tests.adversarial.matrix.test_matrix import _gateway_urlconf

    assert links.url("source") == reverse("source")
    with override_settings(ROOT_URLCONF=_gateway_urlconf()), pytest.raises(NoReverseMatch):
        links.url("source")
    assert links.url("source") == reverse("source")


def test_the_patients_menu_is_djangos_and_kept_once_per_practice(world: World) -> None:
    actor = Actor(world.alice.pk, world.practice_a.pk, frozenset({"practitioner"}))
    links._pattern.cache_clear()
    for pk in (1, 42, 987654):
        shown = navigation.links(navigation.PATIENT, world.practice_a, actor, args=(pk,))
        names = [link.url_name for link in navigation.registered(navigation.PATIENT)]
        assert [s.href for s in shown] == [
            reverse(name, args=[world.practice_a.slug, pk]) for name in names
        ]
    assert links._pattern.cache_info().currsize == len(names)
