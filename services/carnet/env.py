"""Tiny helpers to read settings from the environment (healthchecks style).

Every secret may also be given as a file: FOO_FILE=/run/secrets/foo wins over FOO.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

# The words a yes/no setting accepts, whatever their case.
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    """A yes/no setting; empty or unset is the default. A value that is neither (a typo
    such as ``SESSION_COOKIE_SECURE=ture``) stops the process, naming the variable,
    rather than silently meaning "no"."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value: "
        "use 1/0, true/false, yes/no or on/off (or leave it empty for the default)."
    )


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """Read NAME_FILE if it is set (container secrets), else NAME."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get(name, default)
