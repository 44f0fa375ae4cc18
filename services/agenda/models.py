"""Sites, opening hours, appointment types, absences, appointments and their series.

An appointment is patient data (administrative): the people who may read it are those
the access policy lets read the patient's identity. Its free-text reason is clinical
unless the practitioner marked it administrative.

Two appointments of one practitioner can never overlap: the database refuses it with an
exclusion constraint over the practitioner and the time range (``agenda_no_overlap``),
so two secretaries booking the same slot at once cannot both win.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.practices.models import Practice
from core.quickload import QuickLoad


class Site(QuickLoad, models.Model):
    """A place where the practice receives patients (the main practice, a branch)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="agenda_site_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class AppointmentType(QuickLoad, models.Model):
    """Consultation, long consultation, home visit, nurse round…, with its usual length."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    minutes = models.PositiveSmallIntegerField(_("length (minutes)"))
    is_home_visit = models.BooleanField(_("home visit"), default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="agenda_type_unique_name"),
            models.CheckConstraint(
                condition=Q(minutes__gt=0, minutes__lte=480), name="agenda_type_length"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, pgettext_lazy("weekday", "Monday")
    TUESDAY = 1, pgettext_lazy("weekday", "Tuesday")
    WEDNESDAY = 2, pgettext_lazy("weekday", "Wednesday")
    THURSDAY = 3, pgettext_lazy("weekday", "Thursday")
    FRIDAY = 4, pgettext_lazy("weekday", "Friday")
    SATURDAY = 5, pgettext_lazy("weekday", "Saturday")
    SUNDAY = 6, pgettext_lazy("weekday", "Sunday")


class OpeningHours(models.Model):
    """One span of a practitioner's usual week at a site (e.g. Monday 8:30-12:00)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))

    class Meta:
        ordering = ["practitioner", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="agenda_hours_order"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="agenda_hours_weekday"),
        ]


class DayHours(models.Model):
    """An exception for one day: on that date these spans replace the usual week."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("date"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))

    class Meta:
        ordering = ["day", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="agenda_dayhours_order")
        ]


class Absence(models.Model):
    """A practitioner away (leave, training), or the whole practice closed (a public
    holiday) when ``practitioner`` is empty. Its slots disappear."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("to"))
    label = models.CharField(_("reason"), max_length=100, blank=True)
    is_holiday = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="agenda_absence_order"
            )
        ]


class Series(models.Model):
    """A recurring appointment (a nurse round every Monday for 8 weeks): its occurrences
    are ordinary appointments, each of which can be moved or cancelled on its own."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    every_weeks = models.PositiveSmallIntegerField(default=1)
    count = models.PositiveSmallIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ARRIVED = "arrived", _("In the waiting room")
    IN_CONSULTATION = "in_consultation", _("In consultation")
    DONE = "done", _("Seen")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")


# The statuses that hold their time: a cancelled appointment frees its slot; a patient
# who did not come leaves it taken (the time has passed).
HOLDING = [Status.BOOKED, Status.ARRIVED, Status.IN_CONSULTATION, Status.DONE, Status.NO_SHOW]
WAITING = [Status.ARRIVED]


class Channel(models.TextChoices):
    DESK = "desk", _("At the desk")
    PHONE = "phone", _("By phone")
    WALK_IN = "walk_in", _("Walk-in")


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()  # only used inside the constraint


class Appointment(QuickLoad, models.Model):
    """A booked time with a practitioner, or a walk-in waiting to be seen.

    A walk-in has no time until seen (``starts_at`` empty); once a practitioner takes
    them, the time of the visit is set. ``patient`` is empty for a caller not registered
    yet (``caller_name``, optionally ``caller_phone``): they are registered at the desk
    when they arrive."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    caller_name = models.CharField(_("name"), max_length=200, blank=True)
    caller_phone = models.CharField(_("phone"), max_length=30, blank=True)
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", null=True)
    starts_at = models.DateTimeField(_("start"), null=True, blank=True)
    ends_at = models.DateTimeField(_("end"), null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.DESK)
    # Clinical unless the practitioner marks it administrative ("certificat sport").
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    reason_is_administrative = models.BooleanField(default=False)
    outside_hours = models.BooleanField(default=False)  # booked with an explicit override
    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    arrived_at = models.DateTimeField(null=True, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    encounter = models.ForeignKey(
        "records.Encounter", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="agenda_appt_by_practitioner"),
            models.Index(fields=["patient", "starts_at"], name="agenda_appt_by_patient"),
            models.Index(
                fields=["practice", "arrived_at"],
                condition=Q(status="arrived"),
                name="agenda_appt_waiting",
            ),
        ]
        constraints = [
            ExclusionConstraint(
                name="agenda_no_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (
                        TsTzRange("starts_at", "ends_at", models.Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                # A walk-in's visit time is kept for the record but holds no slot: it
                # is fitted in between appointments.
                condition=Q(status__in=HOLDING, starts_at__isnull=False) & ~Q(channel="walk_in"),
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="agenda_appt_order",
            ),
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | ~Q(caller_name=""),
                name="agenda_appt_someone",
            ),
            models.CheckConstraint(
                condition=Q(channel="walk_in")
                | Q(starts_at__isnull=False, practitioner__isnull=False),
                name="agenda_appt_booked_has_time",
            ),
        ]


class CalendarFeed(models.Model):
    """A practitioner's agenda for a calendar program, behind a secret address that can be
    revoked. Patient names and reasons are left out unless the practitioner opts in."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    with_names = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
