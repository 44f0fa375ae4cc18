"""Checks run before every management command that needs the project ready (``carnet
serve``, ``carnet migrate``...): a clear stop rather than a failure on the first request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register("carnet")
def secret_key_is_set(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        settings.SECRET_KEY  # noqa: B018 - Django refuses an empty key on reading it
    except ImproperlyConfigured:
        return [
            checks.Error(
                "No secret key: SECRET_KEY is not set.",
                hint=(
                    "On a node, set SECRET_KEY or SECRET_KEY_FILE (Ansible and the "
                    "container's env file do). For a local demo, run `carnet secret_key` "
                    f"once: it writes {settings.CARNET_SECRET_KEY_PATH}."
                ),
                id="carnet.E001",
            )
        ]
    return []
