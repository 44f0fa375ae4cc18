"""Writes of the agenda."""

from agenda.services.booking import (
    Booking,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_move,
    appointment_no_show,
    series_book,
)
from agenda.services.feeds import feed_create, feed_fetched, feed_revoke
from agenda.services.schedule import (
    HoursSpan,
    absence_add,
    absence_remove,
    day_hours_set,
    holidays_add,
    hours_set,
    site_save,
    type_save,
)
from agenda.services.visits import check_in, finish, start, walk_in

__all__ = [
    "Booking",
    "HoursSpan",
    "SlotTaken",
    "absence_add",
    "absence_remove",
    "appointment_book",
    "appointment_cancel",
    "appointment_move",
    "appointment_no_show",
    "check_in",
    "day_hours_set",
    "feed_create",
    "feed_fetched",
    "feed_revoke",
    "finish",
    "holidays_add",
    "hours_set",
    "series_book",
    "site_save",
    "start",
    "type_save",
    "walk_in",
]
