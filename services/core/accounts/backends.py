"""Who is logged in, and the devices that may have verified them, in one round trip.

Every page's request reads the person its session names, then the second-factor device
the session says verified them: two queries, each compiled by the ORM on every request.
Here both are compiled once per connection and sent together; django-otp's middleware
(``core.accounts.middleware.OTPMiddleware``) then finds the session's device among those
read, and applies its own checks to it unchanged (the device is the person's and
confirmed)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import Person
from core.prepared import Prepared, fetch_together

PERSON = Prepared(lambda person: Person._default_manager.filter(pk=person))
CONFIRMED_DEVICES = Prepared(
    lambda person: TOTPDevice.objects.filter(user_id=person, confirmed=True).order_by("pk")
)


class PersonBackend(ModelBackend):
    """Django's model backend, reading the person with their confirmed devices."""

    def get_user(self, user_id: Any) -> Person | None:
        try:
            person_id = int(user_id)
        except (TypeError, ValueError):
            return None
        people, devices = fetch_together(
            PERSON.bind(person=person_id), CONFIRMED_DEVICES.bind(person=person_id)
        )
        if not people:
            return None
        person: Person = people[0]
        for device in devices:
            device.user = person
        # Read by the OTP middleware, for this request only (the person is read anew on
        # each request).
        setattr(  # noqa: B010 - not a field of the model
            person, "confirmed_devices", {device.persistent_id: device for device in devices}
        )
        return person if self.user_can_authenticate(person) else None
