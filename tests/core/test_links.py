"""Links reversed once: the same addresses as Django's ``reverse``, and a kept pattern per
name and practice, never per id (a node's patients would crowd the patterns out)."""

from __future__ import annotations

from django.urls import reverse

from core import links
from core.links import ID, by_id, by_ids


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
