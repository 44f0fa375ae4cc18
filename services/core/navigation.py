"""Links to the apps' pages, registered by the apps themselves.

The kernel's layout (the main menu of ``core/base.html``, the practice home) and the
record's banner show links to pages of apps above them. They name none of those pages:
each app registers its links here from its ``AppConfig.ready`` and the page shows what
is registered, in order, each link only if the access policy opens its page to the
person (``when``; the policy's ``decide_practice``, no query). ``tests/test_layers.py``
forbids a template naming the address of a higher app.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from core.access.policy import Actor, PracticeAction, decide_practice
from core.links import ID, by_ids

# Where a link is shown, and the address arguments after the practice's slug.
MENU = "menu"  # the main menu of every practice page
PRACTICE = "practice"  # the practice home's links
SEARCH = "search"  # where the practice home's "find a patient" box sends its query
PATIENT = "patient"  # the record's banner (argument: the patient's id)
COOPERATIVE = "cooperative"  # the cooperative's pages, outside any practice (no argument)
OUTSIDE_PRACTICE = {COOPERATIVE}


@dataclass(frozen=True)
class Link:
    place: str
    url_name: str  # the app's own name for its page ("records:patient-list")
    label: str | Promise  # translated when shown (gettext_lazy)
    order: int  # the place's links are shown by this number
    accesskey: str = ""
    when: PracticeAction | None = None  # shown only to whom the policy allows this


@dataclass(frozen=True)
class Shown:
    """A link as a page shows it."""

    href: str
    label: str
    accesskey: str


_LINKS: dict[str, dict[str, Link]] = {}


def register(*links: Link) -> None:
    """Called from an app's ``ready``; registering a link again replaces it."""
    for link in links:
        _LINKS.setdefault(link.place, {})[link.url_name] = link


def registered(place: str) -> list[Link]:
    return sorted(_LINKS.get(place, {}).values(), key=lambda link: (link.order, link.url_name))


def links(
    place: str, practice: Any = None, actor: Actor | None = None, args: Iterable[Any] = ()
) -> list[Shown]:
    """The links of a place for this person in this practice (a practice's places have
    none outside one)."""
    if place in OUTSIDE_PRACTICE:
        before: tuple[Any, ...] = ()
    elif practice is None:
        return []
    else:
        before = (practice.slug,)
    ids = tuple(args)  # a patient's: reversed once per practice, not per patient
    shown = []
    for link in registered(place):
        if link.when is not None and (
            actor is None
            or practice is None
            or not decide_practice(actor, link.when, practice.pk).allowed
        ):
            continue
        href = by_ids(link.url_name, *before, *[ID for _ in ids])(*ids)
        shown.append(Shown(href, str(link.label), link.accesskey))
    return shown
