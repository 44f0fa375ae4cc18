"""Links reversed once per process: to many rows of one page, and the page's own.

A page listing rows links each to its own address (a chart, an entry to correct): Django's
``reverse`` resolves the pattern anew for each (about 20 µs), more than the rest of a
row. ``by_ids`` reverses once, with a marker where each id goes, and then only fills
them in. The pattern found is kept for the next requests: its key holds the name, the
arguments that are not ids (a practice's address, an entry's kind), the script prefix the
site is served under, the language and the URL configuration, and never an id, so a
node's patients do not crowd it out.

``url`` is the same for an address with no id: the layout's links, the menu's, every
page's (about 12 a page, 0.2 ms that Django's ``reverse`` spent resolving each anew)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

ID = None  # where an id goes, in ``by_ids``'s arguments (no address argument is None)
# No row has these ids, and each appears once in any address Carnet reverses.
_MARKERS = [str(987654321 + n) for n in range(4)]


@lru_cache(maxsize=1024)  # a few names for each practice's address
def _pattern(
    name: str, args: tuple[object, ...], prefix: str, language: str | None, urlconf: object
) -> tuple[str, ...]:
    """The address's text around each id: one more piece than there are ids. (A name
    the configuration does not know raises, and nothing is kept; ``urlconf`` is only
    in the key: ``reverse`` finds the same one.)"""
    markers = iter(_MARKERS)
    address = reverse(name, args=[next(markers) if arg is ID else arg for arg in args])
    pieces = []
    for marker in _MARKERS[: sum(arg is ID for arg in args)]:
        before, address = address.split(marker)
        pieces.append(before)
    return (*pieces, address)


def _where() -> tuple[str, str | None, object]:
    """What an address depends on besides its name and arguments."""
    return get_script_prefix(), get_language(), get_urlconf() or settings.ROOT_URLCONF


def url(name: str, *args: str) -> str:
    """``reverse(name, args=args)``, reversed once; ``args`` are addresses' words (a
    practice's), never ids: ``by_id`` is for those."""
    return _pattern(name, args, *_where())[0]


def by_ids(name: str, *args: object) -> Callable[..., str]:
    """``lambda *ids: reverse(name, args=args with each ID replaced by the next id)``,
    reversed once: ``by_ids("records:entry-correct", slug, ID, "problem", ID)(5, 9)``."""
    pieces = _pattern(name, args, *_where())

    def address(*ids: int | str) -> str:
        text = pieces[0]
        for value, piece in zip(ids, pieces[1:], strict=True):
            text += f"{value}{piece}"
        return text

    return address


def by_id(name: str, *args: object) -> Callable[[int | str], str]:
    """``lambda pk: reverse(name, args=[*args, pk])``, reversed once."""
    return by_ids(name, *args, ID)
