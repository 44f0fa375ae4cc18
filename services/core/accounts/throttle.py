"""Failed logins limited per client address and per username from one address.

Two counters, each in a fixed window, both kept in PostgreSQL (``LoginThrottle``):

- ``address:<ip>``: every failed attempt from one client address, whatever the
  username. Past ``CARNET_LOGIN_ADDRESS_MAX_FAILURES`` in
  ``CARNET_LOGIN_ADDRESS_WINDOW_MINUTES`` the address is refused (HTTP 429) until the
  window ends: one machine cannot try many usernames.
- ``account:<username>@<ip>``: failed attempts on one username *from one address*. Past
  ``CARNET_LOGIN_MAX_FAILURES`` that username is refused from that address for
  ``CARNET_LOGIN_LOCK_MINUTES``. **Why per address:** someone who only knows a
  colleague's username (they follow firstname.lastname) must not be able to lock them
  out; the colleague logs in at once from their own workstation.

Both keys use the username as typed (folded), not the person: an unknown username is
counted and refused exactly like a known one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.accounts.models import LoginThrottle

_COUNT = """
INSERT INTO accounts_loginthrottle (key, failures, window_start)
VALUES (%(key)s, 1, now())
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN accounts_loginthrottle.window_start < %(window_from)s
                  THEN 1 ELSE accounts_loginthrottle.failures + 1 END,
  window_start = CASE WHEN accounts_loginthrottle.window_start < %(window_from)s
                      THEN now() ELSE accounts_loginthrottle.window_start END
"""


@dataclass(frozen=True)
class Refusal:
    """Why a login is refused before its password is even checked, and until when."""

    scope: str  # "address" or "account"
    until: datetime


def _address_key(address: str) -> str:
    return f"address:{address or '-'}"


def _account_key(username: str, address: str) -> str:
    return f"account:{fold(username)}@{address or '-'}"


def fold(username: str) -> str:
    return username.strip().lower()[:150]


def _limits() -> dict[str, tuple[int, timedelta]]:
    return {
        "address": (
            settings.CARNET_LOGIN_ADDRESS_MAX_FAILURES,
            timedelta(minutes=settings.CARNET_LOGIN_ADDRESS_WINDOW_MINUTES),
        ),
        "account": (
            settings.CARNET_LOGIN_MAX_FAILURES,
            timedelta(minutes=settings.CARNET_LOGIN_LOCK_MINUTES),
        ),
    }


def refusal(*, username: str, address: str) -> Refusal | None:
    """The refusal in force for this username from this address, if any (one query)."""
    keys = {_address_key(address): "address", _account_key(username, address): "account"}
    limits = _limits()
    now = timezone.now()
    found: list[Refusal] = []
    for row in LoginThrottle.objects.filter(key__in=keys):
        scope = keys[row.key]
        limit, window = limits[scope]
        until = row.window_start + window
        if row.failures >= limit and until > now:
            found.append(Refusal(scope, until))
    # The address refusal is the wider one: say it first.
    found.sort(key=lambda r: r.scope != "address")
    return found[0] if found else None


def locked_usernames(usernames: list[str]) -> frozenset[str]:
    """Which of these usernames are refused from at least one address now."""
    limit, window = _limits()["account"]
    rows = LoginThrottle.objects.filter(
        key__regex=r"^account:", failures__gte=limit, window_start__gt=timezone.now() - window
    ).values_list("key", flat=True)
    wanted = {fold(name) for name in usernames}
    names = (key[len("account:") :].rsplit("@", 1)[0] for key in rows)
    return frozenset(name for name in names if name in wanted)


def count_failure(*, username: str, address: str) -> None:
    """One more failed attempt, on both counters (one round trip each, atomic upserts)."""
    limits = _limits()
    now = timezone.now()
    counters = ((_address_key(address), "address"), (_account_key(username, address), "account"))
    with connection.cursor() as cursor:
        for key, scope in counters:
            cursor.execute(_COUNT, {"key": key, "window_from": now - limits[scope][1]})


def forget_account(*, username: str, address: str | None = None) -> int:
    """Clear the username's counters: after a successful login (that address only) or when
    an administrator unlocks the account (every address). Returns how many were cleared."""
    if address is not None:
        deleted, _ = LoginThrottle.objects.filter(key=_account_key(username, address)).delete()
        return deleted
    prefix = f"account:{fold(username)}@"
    deleted, _ = LoginThrottle.objects.filter(key__startswith=prefix).delete()
    return deleted


def purge_expired() -> int:
    """Drop counters whose window ended long ago (run by the worker)."""
    longest = max(window for _limit, window in _limits().values())
    old = LoginThrottle.objects.filter(window_start__lt=timezone.now() - 2 * longest)
    deleted, _ = old.delete()
    return deleted
