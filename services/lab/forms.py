from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from lab.models import Conclusion
from lab.parsing import MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Result file (HPRIM Santé or HL7)"),
        help_text=_("The file the laboratory sent (.hpr, .hpm, .hl7, .txt), up to 2 MB."),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 2 MB: it is not a result message."), code="too_large"
            )
        return upload


class MatchForm(forms.Form):
    patient = forms.IntegerField(widget=forms.HiddenInput)
    practitioner = forms.TypedChoiceField(
        label=_("File it for"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("By default the patient's GP of record."),
    )

    def __init__(self, *args: object, practitioners: list[tuple[int, str]], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["practitioner"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("the patient's GP of record")), *practitioners]


class SignOffForm(forms.Form):
    conclusion = forms.ChoiceField(
        label=_("Conclusion"), choices=Conclusion.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
