"""Forms of the agenda's settings pages. They only parse what is typed: the rules (an
end after the start, spans that do not overlap, a length of 1 to 480 minutes, a site of
the practice) are the services' (agenda.services.schedule), whose errors the pages show
on these forms (core.forms.attach_service_errors)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agenda.models import Weekday
from agenda.services import HoursSpan

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M"]


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)


class TypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    # No bounds here: the service says what a length may be, in one sentence.
    minutes = forms.IntegerField(label=_("Length (minutes)"))
    is_home_visit = forms.BooleanField(label=_("Home visit"), required=False)
    is_active = forms.BooleanField(label=_("Offered when booking"), required=False, initial=True)


class SpanRows(forms.Form):
    """Rows of (site, from, to): a day of the week, or one day's exception. A row left
    empty is no span; a row half filled is an error."""

    prefixes: list[str] = []

    def __init__(self, *args: Any, sites: list[tuple[int, str]], rows: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sites = sites
        site_choices = [("", "—"), *[(str(pk), name) for pk, name in sites]]
        for prefix in self.prefixes:
            for index in range(rows):
                key = f"{prefix}_{index}"
                self.fields[f"{key}_site"] = forms.ChoiceField(
                    label=_("Site"), choices=site_choices, required=False
                )
                self.fields[f"{key}_starts"] = forms.TimeField(
                    label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
                )
                self.fields[f"{key}_ends"] = forms.TimeField(
                    label=_("To"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
                )
        self.rows = rows

    def spans_of(self, prefix: str) -> list[tuple[int, time, time]]:
        found = []
        for index in range(self.rows):
            key = f"{prefix}_{index}"
            site = self.cleaned_data.get(f"{key}_site")
            starts = self.cleaned_data.get(f"{key}_starts")
            ends = self.cleaned_data.get(f"{key}_ends")
            if starts is None and ends is None:
                continue
            if starts is None or ends is None:
                self.add_error(f"{key}_ends", _("Give both the start and the end."))
                continue
            if not site:
                if len(self.sites) != 1:
                    self.add_error(f"{key}_site", _("Choose the site."))
                    continue
                site = str(self.sites[0][0])
            found.append((int(site), starts, ends))
        return found

    def grid(self) -> list[tuple[str, list[tuple[Any, Any, Any]]]]:
        """For the template: each prefix with its rows of bound fields."""
        return [
            (
                prefix,
                [
                    (
                        self[f"{prefix}_{i}_site"],
                        self[f"{prefix}_{i}_starts"],
                        self[f"{prefix}_{i}_ends"],
                    )
                    for i in range(self.rows)
                ],
            )
            for prefix in self.prefixes
        ]


class WeekForm(SpanRows):
    """A practitioner's usual week: Monday to Sunday, a few spans each."""

    prefixes = [f"d{day}" for day in Weekday.values]

    def spans(self) -> list[HoursSpan]:
        found = []
        for day in Weekday.values:
            for site, starts, ends in self.spans_of(f"d{day}"):
                found.append(HoursSpan(weekday=day, site_id=site, starts=starts, ends=ends))
        return found

    @staticmethod
    def initial_from(hours: list[Any]) -> tuple[dict[str, Any], int]:
        per_day: dict[int, list[Any]] = {}
        for row in hours:
            per_day.setdefault(row.weekday, []).append(row)
        initial: dict[str, Any] = {}
        for day, rows in per_day.items():
            for index, row in enumerate(rows):
                initial[f"d{day}_{index}_site"] = str(row.site_id)
                initial[f"d{day}_{index}_starts"] = row.starts.strftime("%H:%M")
                initial[f"d{day}_{index}_ends"] = row.ends.strftime("%H:%M")
        most = max((len(rows) for rows in per_day.values()), default=0)
        return initial, max(3, most + 1)


class DayForm(SpanRows):
    """One day's exception: these spans replace the usual week that day (none: closed
    that day is done with an absence; no row at all goes back to the usual week)."""

    prefixes = ["s"]

    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def spans(self) -> list[tuple[int, time, time]]:
        return self.spans_of("s")


class AbsenceForm(forms.Form):
    practitioner = forms.ChoiceField(label=_("Who is away"))
    starts_at = forms.DateTimeField(
        label=_("From"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=_("To"),
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    label = forms.CharField(
        label=_("Reason shown in the agenda (leave, training…)"), max_length=100, required=False
    )

    CLOSURE = "practice"

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["practitioner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def practitioner_id(self) -> int | None:
        value = self.cleaned_data["practitioner"]
        return None if value == self.CLOSURE else int(value)


class HolidaysForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), initial=lambda: timezone.localdate().year)


class ConfirmForm(forms.Form):
    """A second step before what cannot be undone."""

    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class FeedForm(forms.Form):
    with_names = forms.BooleanField(
        label=_("Include the patients' names and the reasons"),
        required=False,
        help_text=_(
            "Off by default. The calendar program, and whoever reads your calendar or its"
            " address, would then see patient data: turn it on only for a calendar that"
            " you alone read."
        ),
    )


class RevokeFeedForm(forms.Form):
    feed = forms.IntegerField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
