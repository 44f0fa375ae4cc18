"""What the agenda's REST API reads and answers (docs/api.md, "Agenda").

Appointments are answered from the selectors' rows: the reason is already blank for a
reader who may not see it, and a busy time whose patient the reader may not see has no
name (``hidden``). Numbers are bounded so that no input reaches the database out of
range; what the numbers mean (a length, a repeat) is judged by the services, with their
own messages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agenda.models import Channel

LARGEST_ID = 2**31 - 1
# Bounds for numbers the services judge themselves (a length, a repeat, a year): wide
# enough for their own message to be the one the caller reads.
WIDE = 100_000
# Before 1911 the practice's time zone had offsets in seconds (Paris mean time), which no
# RFC 3339 reader accepts back; nothing of an agenda is that old. Far in the future,
# adding a day or a week would overflow.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
LONGEST_RANGE_DAYS = 62


def an_id(**options: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=LARGEST_ID, **options)


def a_number(**options: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=-WIDE, max_value=WIDE, **options)


class MomentField(serializers.DateTimeField):
    """A date and time from 2000 to ten years ahead (a time without offset is the
    practice's local time)."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and "\x00" in value:
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
        moment: datetime = super().to_internal_value(value)
        if not EARLIEST_MOMENT <= moment <= timezone.now() + timedelta(days=3653):
            raise serializers.ValidationError(
                _("Give a date and time between the year 2000 and ten years from now."),
                code="range",
            )
        return moment


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "08:30"}
)
class ClockField(serializers.TimeField):
    """A time of day on the practice's clock ("08:30"): no offset, so not an RFC 3339
    time, which the OpenAPI "time" format would promise."""

    def __init__(self, **options: Any) -> None:
        super().__init__(format="%H:%M", **options)


class DayField(serializers.DateField):
    def to_internal_value(self, value: Any) -> date:
        day: date = super().to_internal_value(value)
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise serializers.ValidationError(
                _("Give a date between the years 2000 and 2100."), code="range"
            )
        return day


# --- what is answered ---------------------------------------------------------------------


class TypeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    minutes = serializers.IntegerField()
    is_home_visit = serializers.BooleanField()


class SiteOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    phone = serializers.CharField()


class PractitionerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    profession = serializers.CharField()


class SlotOutput(serializers.Serializer):
    practitioner = serializers.IntegerField(source="practitioner_id")
    starts_at = serializers.DateTimeField(source="starts")
    ends_at = serializers.DateTimeField(source="ends")
    site = serializers.IntegerField(source="site_id", allow_null=True)


class AppointmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    status_label = serializers.CharField()
    channel = serializers.CharField()
    type_name = serializers.CharField()
    minutes = serializers.IntegerField()
    is_home_visit = serializers.BooleanField()
    practitioner = serializers.IntegerField(source="practitioner_id", allow_null=True)
    practitioner_name = serializers.CharField()
    site_name = serializers.CharField()
    patient = serializers.IntegerField(source="patient_id", allow_null=True)
    name = serializers.CharField(help_text="the patient's, or the caller's when not registered")
    birth_date = serializers.DateField(allow_null=True)
    phone = serializers.CharField()
    registered = serializers.BooleanField()
    reason = serializers.CharField(help_text="empty when the reader may not see it")
    reason_hidden = serializers.BooleanField(help_text="a reason exists that is not shown")
    arrived_at = serializers.DateTimeField(allow_null=True)
    seen_at = serializers.DateTimeField(allow_null=True)
    encounter = serializers.IntegerField(source="encounter_id", allow_null=True)
    series = serializers.IntegerField(source="series_id", allow_null=True)
    hidden = serializers.BooleanField(
        help_text="a busy time whose patient the reader may not see: no name, no reason"
    )
    version = serializers.IntegerField()


class SeriesOutput(serializers.Serializer):
    id = serializers.IntegerField()
    every_weeks = serializers.IntegerField()
    count = serializers.IntegerField()
    appointments = AppointmentOutput(many=True)


class HoursSpanIO(serializers.Serializer):
    weekday = a_number(help_text="0 = Monday ... 6 = Sunday")
    site = an_id(source="site_id")
    starts = ClockField()
    ends = ClockField()


class HoursInput(serializers.Serializer):
    spans = HoursSpanIO(many=True, max_length=70)  # type: ignore[call-arg]


class AbsenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    practitioner = serializers.IntegerField(
        source="practitioner_id", allow_null=True, help_text="empty: the practice is closed"
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    label = serializers.CharField()  # type: ignore[assignment]
    is_holiday = serializers.BooleanField()


class AbsenceAddedOutput(AbsenceOutput):
    appointments = AppointmentOutput(
        many=True, help_text="booked appointments it falls on: call these patients"
    )


class HolidaysOutput(serializers.Serializer):
    added = serializers.IntegerField()


class FeedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    with_names = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class FeedCreatedOutput(FeedOutput):
    token = serializers.CharField(help_text="shown once")
    url = serializers.CharField(help_text="the address to give the calendar program")


# --- what is read ---------------------------------------------------------------------------


class SlotQuery(serializers.Serializer):
    practitioner = serializers.ListField(child=an_id(), min_length=1, max_length=20)
    type = an_id()
    after = MomentField(required=False, help_text="now when not given")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=8)


class RangeQuery(serializers.Serializer):
    start = DayField(required=False, help_text="today when not given")
    end = DayField(required=False, help_text="included; the start day when not given")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start") or timezone.localdate()
        end = attrs.get("end") or start
        if end < start or (end - start).days >= LONGEST_RANGE_DAYS:
            raise serializers.ValidationError(
                {
                    "end": [
                        _("The end comes after the start, %(n)s days at most.")
                        % {"n": LONGEST_RANGE_DAYS}
                    ]
                }
            )
        return {"start": start, "days": (end - start).days + 1}


class WaitingQuery(serializers.Serializer):
    practitioner = an_id(required=False, help_text="theirs and walk-ins for whoever is free")


class AbsenceQuery(serializers.Serializer):
    start = DayField(required=False, help_text="absences ending after this day (today)")
    practitioner = an_id(required=False, help_text="theirs and the practice's closures")


class BookingInput(serializers.Serializer):
    practitioner = an_id()
    type = an_id()
    starts_at = MomentField()
    minutes = a_number(required=False, help_text="the type's length unless given")
    channel = serializers.ChoiceField(
        choices=[Channel.DESK.value, Channel.PHONE.value], default=Channel.DESK.value
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    reason_is_administrative = serializers.BooleanField(
        default=False, help_text="the practitioner marks the reason as not clinical"
    )
    override_hours = serializers.BooleanField(
        default=False, help_text="book outside the opening hours or during an absence"
    )


class CallerBookingInput(BookingInput):
    caller_name = serializers.CharField(max_length=200)
    caller_phone = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )


class SeriesInput(BookingInput):
    every_weeks = a_number(help_text="1 to 8")
    count = a_number(help_text="2 to 52 appointments")


class MoveInput(serializers.Serializer):
    starts_at = MomentField()
    practitioner = an_id(required=False, help_text="another practitioner (same length)")
    override_hours = serializers.BooleanField(default=False)


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True)


class CheckInInput(serializers.Serializer):
    patient = an_id(required=False, help_text="for a caller booked by name, once registered")


class WalkInInput(serializers.Serializer):
    type = an_id()
    practitioner = an_id(required=False, help_text="empty: whoever is free")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class AbsenceInput(serializers.Serializer):
    practitioner = an_id(allow_null=True, default=None, help_text="empty: close the practice")
    starts_at = MomentField()
    ends_at = MomentField()
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")  # type: ignore[assignment]


class HolidaysInput(serializers.Serializer):
    year = a_number()


class FeedInput(serializers.Serializer):
    with_names = serializers.BooleanField(
        default=False, help_text="patients' names (and reasons the practitioner may read)"
    )
