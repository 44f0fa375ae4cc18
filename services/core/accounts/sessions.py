"""Django's database sessions, the session's row read by a statement compiled once per
connection: every page's request reads it first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.prepared import Prepared

SESSION = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now),
    key=str,
    now=datetime,
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        found = SESSION.first(key=self.session_key, now=timezone.now())
        if found is None:
            self._session_key = None
        return found
