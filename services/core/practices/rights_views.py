"""The patients' rights on paper: the page where the staff choose the language (and the
poster's size) and the two PDFs (core/practices/rights.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.access.policy import PracticeAction
from core.access.services import require_practice
from core.documents.pdf import pdf_response
from core.practices import rights
from core.practices.context import PracticeRequest, practice_view


class RightsPaperForm(forms.Form):
    """What to print: the language (``lang``) and, for the poster, the paper (``size``).
    Both have a default, so a plain link prints the French A4 document."""

    lang = forms.ChoiceField(label=gettext_lazy("Language"), required=False, choices=())
    size = forms.ChoiceField(
        label=gettext_lazy("Poster size"),
        required=False,
        choices=[(size, size) for size in rights.POSTER_SIZES],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = self.fields["lang"]
        assert isinstance(lang, forms.ChoiceField)
        lang.choices = rights.languages()  # the site's languages, read when asked

    def chosen_language(self) -> str:
        return str(self.cleaned_data.get("lang") or "fr")

    def chosen_size(self) -> str:
        return str(self.cleaned_data.get("size") or "A4")


def _page(request: PracticeRequest, form: RightsPaperForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "practices/patient_rights.html",
        {"form": form, "rights": rights.RIGHTS, "ask": rights.ASK},
        status=status,
    )


@practice_view
@require_GET
def patient_rights(request: PracticeRequest) -> HttpResponse:
    """The page: what the documents say, and the links to print them."""
    require_practice(request.actor, PracticeAction.PRINT_PATIENT_RIGHTS, request.practice.pk)
    return _page(request, RightsPaperForm(initial={"lang": "fr", "size": "A4"}))


@practice_view
@require_GET
def patient_rights_poster_pdf(request: PracticeRequest) -> HttpResponse:
    form = RightsPaperForm(request.GET)
    if not form.is_valid():
        require_practice(request.actor, PracticeAction.PRINT_PATIENT_RIGHTS, request.practice.pk)
        return _page(request, form, status=400)
    pdf = rights.rights_poster_pdf(
        actor=request.actor,
        practice=request.practice,
        language=form.chosen_language(),
        size=form.chosen_size(),
    )
    return pdf_response(pdf, f"affiche-droits-{form.chosen_language()}-{form.chosen_size()}.pdf")


@practice_view
@require_GET
def patient_rights_leaflet_pdf(request: PracticeRequest) -> HttpResponse:
    form = RightsPaperForm(request.GET)
    if not form.is_valid():
        require_practice(request.actor, PracticeAction.PRINT_PATIENT_RIGHTS, request.practice.pk)
        return _page(request, form, status=400)
    pdf = rights.rights_leaflet_pdf(
        actor=request.actor, practice=request.practice, language=form.chosen_language()
    )
    return pdf_response(pdf, f"depliant-droits-{form.chosen_language()}.pdf")
