"""The desk's forms: booking on the phone, moving, cancelling, checking in, walk-ins.

They only parse what was typed; every rule (the past, opening hours, lengths, overlaps,
who may book for whom) is the services' (``agenda.services``), whose refusals are shown
on these forms with ``core.forms.attach_service_errors``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agenda.models import Channel
from agenda.selectors.slots import local_zone

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")
ANY = "any"  # "whoever is free first": a practitioner choice, not a person


def when(day: date | None, moment: time | None) -> datetime | None:
    """The local date and time typed, as an aware datetime (None when incomplete)."""
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment, tzinfo=local_zone())


def number(value: Any) -> int | None:
    """A chosen id, or None ("any", nothing, or not a number: the service says so)."""
    try:
        return int(value) if value not in (None, "", ANY) else None
    except (TypeError, ValueError):
        return None


def parse_slot(value: str) -> tuple[int, datetime] | None:
    """A slot button's value, "<practitioner id>|<ISO start>"."""
    practitioner, _sep, starts = value.partition("|")
    try:
        moment = datetime.fromisoformat(starts)
        return int(practitioner), moment
    except ValueError:
        return None


def set_choices(form: forms.Form, name: str, choices: list[tuple[Any, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class AnyChoiceField(forms.ChoiceField):
    """A choice the service judges (an unknown practitioner or type gets its words, the
    same as through the API), not the form."""

    def valid_value(self, value: Any) -> bool:
        return True


class BookingForm(forms.Form):
    """Who (a patient found, or a caller's name), with whom, what for, and when (a free
    slot's button, or a precise time)."""

    patient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    caller_name = forms.CharField(label=_("Caller's name"), max_length=200, required=False)
    caller_phone = forms.CharField(label=_("Caller's phone"), max_length=30, required=False)
    practitioner = AnyChoiceField(label=_("Practitioner"))
    type = AnyChoiceField(label=_("Type of appointment"))
    minutes = forms.IntegerField(
        label=_("Length (minutes)"),
        required=False,
        help_text=_("Leave empty for the type's usual length."),
    )
    channel = forms.ChoiceField(
        label=_("Booking made"),
        choices=[(Channel.PHONE, _("By phone")), (Channel.DESK, _("At the desk"))],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    reason_is_administrative = forms.BooleanField(
        label=_("Administrative reason (visible to the desk)"), required=False
    )
    day = forms.DateField(label=_("Date"), required=False, widget=DATE_INPUT)
    at = forms.TimeField(label=_("Time"), required=False, widget=TIME_INPUT)
    override_hours = forms.BooleanField(
        label=_("Book outside the opening hours (or during an absence) on purpose"),
        required=False,
    )
    every_weeks = forms.IntegerField(label=_("Repeat every (weeks)"), required=False)
    count = forms.IntegerField(label=_("Number of appointments"), required=False)
    slot = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        practitioners: list[tuple[int, str]],
        types: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(
            self,
            "practitioner",
            [
                (ANY, _("Any practitioner (first free)")),
                *((str(pk), name) for pk, name in practitioners),
            ],
        )
        set_choices(self, "type", [(str(pk), name) for pk, name in types])

    def practitioner_id(self) -> int | None:
        return number(self.cleaned_data.get("practitioner"))

    def type_id(self) -> int | None:
        return number(self.cleaned_data.get("type"))


class MoveForm(forms.Form):
    day = forms.DateField(label=_("New date"), widget=DATE_INPUT)
    at = forms.TimeField(label=_("New time"), widget=TIME_INPUT)
    override_hours = forms.BooleanField(
        label=_("Book outside the opening hours (or during an absence) on purpose"),
        required=False,
    )


class CancelForm(forms.Form):
    cancel_reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=200,
        help_text=_("For example: the patient phoned, the practitioner is ill."),
    )


class WalkInForm(forms.Form):
    patient = forms.IntegerField(label=_("Patient"))
    type = AnyChoiceField(label=_("Type of appointment"))
    practitioner = AnyChoiceField(label=_("Practitioner"))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(
        self,
        *args: Any,
        practitioners: list[tuple[int, str]],
        types: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(
            self,
            "practitioner",
            [(ANY, _("The first one free")), *((str(pk), name) for pk, name in practitioners)],
        )
        set_choices(self, "type", [(str(pk), name) for pk, name in types])

    def practitioner_id(self) -> int | None:
        return number(self.cleaned_data.get("practitioner"))
