"""The chart offers each person the buttons the access policy opens to them: the
identity's corrections to practitioners and secretaries, merging a duplicate and
emergency access to practitioners (emergency access only when the clinical record is
refused), nothing of these to a practice administrator."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core import tenancy
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login


def buttons(client: Client, world: World) -> set[str]:
    """Which of the three kinds of button the chart of Paul shows."""
    slug, pk = world.practice_a.slug, world.paul.pk
    response = client.get(f"/p/{slug}/patients/{pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    links = {
        "identity": reverse("records:identity-correct", args=[slug, pk]),
        "merge": reverse("records:patient-merge", args=[slug, pk]),
        "emergency": reverse("records:break-glass", args=[slug, pk]),
    }
    return {name for name, link in links.items() if f'href="{link}"' in page}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # Alice, Paul's GP, reads his chart: no emergency access to offer.
        ("alice", {"identity", "merge"}),
        # Bob, a practitioner outside Paul's care team: the chart is refused to him.
        ("bob", {"identity", "merge", "emergency"}),
        ("sam", {"identity"}),
        ("pia", set()),
    ],
)
def test_the_chart_shows_the_buttons_the_policy_opens(
    world: World, who: str, expected: set[str]
) -> None:
    if who == "pia":
        tenancy.activate(world.practice_a.pk)
        person = PersonFactory(username="pia", full_name="Pia Perrin")
        MembershipFactory(practice=world.practice_a, person=person, role="practice_admin")
        tenancy.activate(None)
    else:
        person = getattr(world, who)
    assert buttons(login(Client(), person), world) == expected
