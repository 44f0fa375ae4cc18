"""One person's personal API token in one practice, and the requests a client sends with
it to one part of the API (``/api/v1/<part>/``)."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from core import tenancy
from core.accounts import services as accounts
from tests.fixtures import World


class TokenApi:
    part = ""  # e.g. "agenda/", "lab/"

    def __init__(self, world: World, person: Any, practice: Any = None) -> None:
        practice = practice or world.practice_a
        tenancy.activate(practice.pk, person.pk)
        _token, plaintext = accounts.api_token_create(person=person, practice=practice, name="t")
        tenancy.activate(None)
        self.client, self.auth = Client(), f"Bearer {plaintext}"

    def get(self, path: str, language: str = "en") -> Any:
        return self.client.get(
            f"/api/v1/{self.part}{path}",
            HTTP_AUTHORIZATION=self.auth,
            HTTP_ACCEPT_LANGUAGE=language,
        )

    def send(
        self,
        method: str,
        path: str,
        data: Any = None,
        language: str = "en",
        content_type: str = "application/json",
    ) -> Any:
        """A write; ``data`` is sent as JSON, or as it is with another ``content_type``."""
        if content_type == "application/json":
            data = json.dumps(data if data is not None else {})
        return getattr(self.client, method)(
            f"/api/v1/{self.part}{path}",
            data=data,
            content_type=content_type,
            HTTP_AUTHORIZATION=self.auth,
            HTTP_ACCEPT_LANGUAGE=language,
        )
