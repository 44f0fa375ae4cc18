"""Role switching on new connections, for the test run (see settings_test)."""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created


def _assume_role(sender: Any, connection: Any, **kwargs: Any) -> None:
    role = connection.settings_dict.get("CARNET_ROLE")
    if role:
        with connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{role}"')


def install() -> None:
    connection_created.connect(_assume_role, dispatch_uid="carnet-assume-role")
