"""Who is logged in, and the devices that may have verified them, read with the session.

Every page's request reads the person its session names, then the second-factor device
the session says verified them. The session store reads both in the session's own message
(``core.accounts.sessions``) and hands them here; a session whose row does not name the
person its data names (written before the column existed) has them read here, in one
message of their own. django-otp's middleware (``core.accounts.middleware.OTPMiddleware``)
then finds the session's device among those read, and applies its own checks to it
unchanged (the device is the person's and confirmed)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import Person
from core.prepared import Prepared, fetch_together

PERSON = Prepared(lambda person: Person._default_manager.filter(pk=person))
CONFIRMED_DEVICES = Prepared(
    lambda person: TOTPDevice.objects.filter(user_id=person, confirmed=True).order_by("pk")
)

# The person and devices the session store read with this request's session. Set at every
# session read (even to nobody), taken by the first ``get_user`` after it.
_READ_WITH_SESSION: ContextVar[tuple[Person | None, list[TOTPDevice]] | None] = ContextVar(
    "read_with_session", default=None
)


def read_with_session(person: Person | None, devices: list[TOTPDevice]) -> None:
    """The session's person and their confirmed devices, as the session store read them."""
    _READ_WITH_SESSION.set((person, devices))


def _take_read_with_session(person_id: int) -> tuple[Person, list[TOTPDevice]] | None:
    read = _READ_WITH_SESSION.get()
    _READ_WITH_SESSION.set(None)
    if read is None or read[0] is None or read[0].pk != person_id:
        return None
    return read[0], read[1]


class PersonBackend(ModelBackend):
    """Django's model backend, reading the person with their confirmed devices."""

    def get_user(self, user_id: Any) -> Person | None:
        try:
            person_id = int(user_id)
        except (TypeError, ValueError):
            return None
        read = _take_read_with_session(person_id)
        if read is None:
            people, devices = fetch_together(
                PERSON.bind(person=person_id), CONFIRMED_DEVICES.bind(person=person_id)
            )
            if not people:
                return None
            read = (people[0], devices)
        person, devices = read
        for device in devices:
            device.user = person
        # Read by the OTP middleware, for this request only (the person is read anew on
        # each request).
        setattr(  # noqa: B010 - not a field of the model
            person, "confirmed_devices", {device.persistent_id: device for device in devices}
        )
        return person if self.user_can_authenticate(person) else None
