"""Django's database sessions, with the person they are logged in as in a column of their
own (``PersonSession``): a page's session, its person and the person's confirmed
second-factor devices are read in one message, by statements compiled once per
connection. Every page's request reads them first.

The person and devices read here are handed to ``core.accounts.backends.PersonBackend``,
which Django asks for the session's person just after: it takes them when they are the
person the session's data names, and reads them itself otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import backends
from core.accounts.models import Person, PersonSession
from core.prepared import Prepared, fetch_together

SESSION = Prepared(
    lambda key, now: PersonSession.objects.filter(session_key=key, expire_date__gt=now),
    key=str,
    now=datetime,
)
SESSION_PERSON = Prepared(
    lambda key, now: Person._default_manager.filter(
        sessions__session_key=key, sessions__expire_date__gt=now
    ),
    key=str,
    now=datetime,
)
SESSION_DEVICES = Prepared(
    lambda key, now: TOTPDevice.objects.filter(
        confirmed=True, user__sessions__session_key=key, user__sessions__expire_date__gt=now
    ).order_by("pk"),
    key=str,
    now=datetime,
)


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls) -> type[PersonSession]:
        return PersonSession

    def _get_session_from_db(self) -> Any:
        values = {"key": self.session_key, "now": timezone.now()}
        sessions, people, devices = fetch_together(
            SESSION.bind(**values), SESSION_PERSON.bind(**values), SESSION_DEVICES.bind(**values)
        )
        backends.read_with_session(people[0] if people else None, devices)
        if not sessions:
            self._session_key = None
            return None
        return sessions[0]

    def create_model_instance(self, data: dict[str, Any]) -> PersonSession:
        session = super().create_model_instance(data)
        assert isinstance(session, PersonSession)  # get_model_class above
        session.person_id = _person_id(data.get(SESSION_KEY))
        return session


def _person_id(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
