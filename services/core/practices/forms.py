"""Forms of the cooperative's pages: applying to join, deciding an application."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.accounts.models import Person
from core.forms import attach_service_errors
from core.practices.models import CooperativeMembership, MembershipApplication
from core.practices.services.applications import ApplicationInput, PractitionerEntry

# Rows for practitioners on the form; a practice with more adds them later from its team.
PRACTITIONER_ROWS = 6
# Left empty by people; filled by robots that fill every field (never shown: CSS and
# aria-hidden hide it, and it is out of the tab order).
HONEYPOT = "website"


class ApplicationForm(forms.Form):
    practice_name = forms.CharField(label=_("Name of the practice"), max_length=200)
    address = forms.CharField(
        label=_("Address"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    postal_code = forms.CharField(label=_("Postal code"), max_length=10)
    city = forms.CharField(label=_("City"), max_length=100)
    country = forms.ChoiceField(
        label=_("Country"), choices=MembershipApplication.Country.choices, initial="FR"
    )
    plan = forms.ChoiceField(label=_("Plan"), choices=CooperativeMembership.Plan.choices)
    shares = forms.IntegerField(
        label=_("Cooperative shares (parts sociales) subscribed"),
        min_value=1,
        max_value=1000,
        initial=1,
    )
    contact_name = forms.CharField(label=_("Person to contact"), max_length=200)
    contact_email = forms.EmailField(label=_("E-mail"), max_length=254)
    contact_phone = forms.CharField(label=_("Phone"), max_length=30)
    statutes_accepted = forms.BooleanField(
        label=_("I have read the cooperative's statutes and accept them on the practice's behalf"),
        required=False,
    )
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        professions = [("", "—"), *Person.Profession.choices]
        for index in range(PRACTITIONER_ROWS):
            self.fields[f"practitioner_{index}_name"] = forms.CharField(
                label=_("Full name"), max_length=200, required=False
            )
            self.fields[f"practitioner_{index}_profession"] = forms.ChoiceField(
                label=_("Profession"), choices=professions, required=False
            )
            self.fields[f"practitioner_{index}_identifier"] = forms.CharField(
                label=_("RPPS or INAMI number (optional)"), max_length=20, required=False
            )
        self.fields[HONEYPOT].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def practitioner_rows(self) -> list[tuple[int, Any, Any, Any]]:
        return [
            (
                index + 1,
                self[f"practitioner_{index}_name"],
                self[f"practitioner_{index}_profession"],
                self[f"practitioner_{index}_identifier"],
            )
            for index in range(PRACTITIONER_ROWS)
        ]

    def is_robot(self) -> bool:
        return bool(self.data.get(HONEYPOT, "").strip())

    def to_input(self) -> ApplicationInput:
        data = self.cleaned_data
        entries = []
        self.rows_used: list[int] = []
        for index in range(PRACTITIONER_ROWS):
            name = data.get(f"practitioner_{index}_name", "")
            profession = data.get(f"practitioner_{index}_profession", "")
            identifier = data.get(f"practitioner_{index}_identifier", "")
            if name or profession or identifier:
                entries.append(PractitionerEntry(name, profession, identifier))
                self.rows_used.append(index)
        return ApplicationInput(
            practice_name=data["practice_name"],
            address=data["address"],
            postal_code=data["postal_code"],
            city=data["city"],
            country=data["country"],
            plan=data["plan"],
            shares=data["shares"],
            contact_name=data["contact_name"],
            contact_email=data["contact_email"],
            contact_phone=data["contact_phone"],
            statutes_accepted=data["statutes_accepted"],
            practitioners=tuple(entries),
        )

    def attach(self, error: ValidationError) -> None:
        """The service's refusal on the form, each practitioner's on the row it came from
        (the service numbers only the rows filled in)."""
        if not hasattr(error, "error_dict"):
            attach_service_errors(self, error)
            return
        for field, messages in error.message_dict.items():
            match = ROW.fullmatch(field)
            if match:
                row = self.rows_used[int(match["index"])]
                field = f"practitioner_{row}_{match['part']}"
            self.add_error(field if field in self.fields else None, messages)


ROW = re.compile(r"practitioner_(?P<index>\d+)_(?P<part>\w+)")


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the refusal"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
