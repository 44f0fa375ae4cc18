"""Links to many rows of one page, at the cost of one ``reverse``, once per process.

A page listing rows links each to its own address (a chart, an entry to correct): Django's
``reverse`` resolves the pattern anew for each (about 20 µs), more than the rest of a
row. ``by_id`` reverses once, with a marker where the row's id goes, and then only fills
it in. The pattern found is kept for the next requests: addresses change only with the
code, the script prefix the site is served under, or the language, which are all in its
key."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

# No row has this id, and it appears once in any address Carnet reverses.
_MARKER = 987654321


@lru_cache(maxsize=4096)  # a few names for each practice's address
def _pattern(
    name: str, args: tuple[object, ...], prefix: str, language: str | None
) -> tuple[str, str]:
    head, tail = reverse(name, args=[*args, _MARKER]).split(str(_MARKER))
    return head, tail


def by_id(name: str, *args: object) -> Callable[[int | str], str]:
    """``lambda pk: reverse(name, args=[*args, pk])``, reversed once."""
    head, tail = _pattern(name, args, get_script_prefix(), get_language())
    return lambda pk: f"{head}{pk}{tail}"
