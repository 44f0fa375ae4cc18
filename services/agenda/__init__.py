"""The agenda: opening hours, appointment types, booking at the desk and on the phone,
the waiting room and the practitioner's day."""
