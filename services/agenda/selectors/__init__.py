"""Reads of the agenda."""

from agenda.selectors.appointments import (
    AppointmentRow,
    Today,
    appointment_get,
    patient_appointments,
    practitioner_days,
    today_for,
    waiting_room,
)
from agenda.selectors.feeds import feed_for_token
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
    "appointment_types",
    "day_hours_of",
    "feed_for_token",
    "free_slots",
    "hours_of",
    "patient_appointments",
    "practitioner_days",
    "practitioners",
    "sites",
    "today_for",
    "waiting_room",
]
