"""Reads of the agenda."""

from agenda.selectors.appointments import (
    AppointmentRow,
    Today,
    appointment_get,
    appointment_read,
    patient_appointments,
    patient_for_reading,
    practitioner_days,
    rows_for,
    series_appointments,
    today_for,
    waiting_room,
)
from agenda.selectors.feeds import busy_times, feed_for_token, feeds_of
from agenda.selectors.schedule import (
    absences_from,
    appointment_types,
    day_hours_of,
    hours_of,
    practitioners,
    sites,
)
from agenda.selectors.slots import Slot, free_slots

__all__ = [
    "AppointmentRow",
    "Slot",
    "Today",
    "absences_from",
    "appointment_get",
    "appointment_read",
    "appointment_types",
    "busy_times",
    "day_hours_of",
    "feed_for_token",
    "feeds_of",
    "free_slots",
    "hours_of",
    "patient_appointments",
    "patient_for_reading",
    "practitioner_days",
    "practitioners",
    "rows_for",
    "series_appointments",
    "sites",
    "today_for",
    "waiting_room",
]
