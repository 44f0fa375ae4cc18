from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name of the client"), max_length=100)


ROLE_CHOICES = [
    ("practitioner", _("Practitioner")),
    ("secretary", _("Secretary")),
    ("practice_admin", _("Practice administrator")),
]


class InviteForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Usually firstname.lastname. The person logs in with it."),
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    profession = forms.ChoiceField(
        label=_("Profession (practitioners)"),
        required=False,
        choices=[("", "—")],  # filled from Person.Profession in __init__
    )
    rpps = forms.CharField(
        label=_("RPPS number (practitioners)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    am_number = forms.CharField(
        label=_("Assurance Maladie number (printed on prescriptions)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    inami = forms.CharField(
        label=_("INAMI number (practitioners in Belgium)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        from core.accounts.models import Person

        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["profession"].choices = [("", "—"), *Person.Profession.choices]  # type: ignore[attr-defined]


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class DeactivateForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (kept in the audit trail)"),
        max_length=500,
        widget=forms.TextInput(),
    )


class AdminCodeForm(forms.Form):
    admin_code = forms.CharField(
        label=_("Your own six-digit code, to confirm"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class InvitationAcceptForm(forms.Form):
    password = forms.CharField(
        label=_("Choose a password (12 characters or more)"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("The same password again"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    code = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}
        ),
    )


class PinForm(forms.Form):
    current_password = forms.CharField(
        label=_("Your password, to confirm"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    pin = forms.RegexField(
        label=_("New code to leave the patient view (4 to 8 digits)"),
        regex=r"^[0-9]{4,8}$",
        error_messages={"invalid": _("The code has 4 to 8 digits.")},
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("Your current password"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        max_length=1024,
        strip=False,
        help_text=_("At least 12 characters; not a common password, not like your username."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    repeated = forms.CharField(
        label=_("New password, again"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
