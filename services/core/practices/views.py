"""The practice home page and the practice's care-team setting."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from core import navigation
from core.access.policy import PracticeAction, decide_practice
from core.access.services import require_practice
from core.accounts.models import Role
from core.accounts.selectors import clinicians_of_practice, staff_of_practice
from core.audit.services import record_event
from core.documents.pdf import pdf_response, render_pdf
from core.practices.context import PracticeRequest, practice_view
from core.practices.models import CareTeamMode
from core.practices.services import practice_care_team_mode_set


@practice_view
def practice_home(request: PracticeRequest) -> HttpResponse:
    actor = request.actor
    return render(
        request,
        "practices/home.html",
        {
            "roles": [Role(role).label for role in sorted(actor.roles)],
            "may_manage_staff": decide_practice(
                actor, PracticeAction.MANAGE_STAFF, request.practice.pk
            ).allowed,
            "staff": staff_of_practice(request.practice.pk),
            # The apps' pages, as they registered them (core.navigation).
            "search_links": navigation.links(navigation.SEARCH, request.practice, actor),
            "practice_links": navigation.links(navigation.PRACTICE, request.practice, actor),
        },
    )


class CareTeamModeForm(forms.Form):
    mode = forms.ChoiceField(
        label=gettext_lazy("Who is in each patient's care team"),
        choices=CareTeamMode.choices,
        widget=forms.RadioSelect,
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


@practice_view
@require_http_methods(["GET", "POST"])
def care_team_setting(request: PracticeRequest) -> HttpResponse:
    """The practice's care-team setting: every member sees it and prints the notice for
    the waiting room; a practice administrator changes it, after a confirmation that
    says what it means for the patients."""
    practice, actor = request.practice, request.actor
    require_practice(actor, PracticeAction.VIEW_SETTINGS, practice.pk)
    may_change = decide_practice(actor, PracticeAction.CHANGE_SETTINGS, practice.pk).allowed
    post = request.POST if request.method == "POST" else None
    if post is not None:
        require_practice(actor, PracticeAction.CHANGE_SETTINGS, practice.pk)
    form = CareTeamModeForm(post, initial={"mode": practice.care_team_mode})
    confirming = ""
    if post is not None and form.is_valid():
        mode = form.cleaned_data["mode"]
        if mode == practice.care_team_mode:
            messages.info(request, _("The setting is unchanged."))
            return redirect("practices:care-team", practice.slug)
        if form.cleaned_data["confirmed"]:
            try:
                practice_care_team_mode_set(actor=actor, practice=practice, mode=mode)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, _("The care-team setting is changed."))
                return redirect("practices:care-team", practice.slug)
        else:
            confirming = mode
    return render(
        request,
        "practices/care_team.html",
        {
            "form": form,
            "mode": practice.care_team_mode,
            "practice_team": practice.care_team_mode == CareTeamMode.PRACTICE,
            "confirming": confirming,
            "may_change": may_change,
            "clinicians": clinicians_of_practice(practice.pk),
        },
        status=400 if post is not None and not form.is_valid() else 200,
    )


@practice_view
@require_GET
def care_team_notice_pdf(request: PracticeRequest) -> HttpResponse:
    """The notice for the waiting room, in French: who is in the care team and the
    patient's right to say no. It names clinicians, not patients."""
    practice, actor = request.practice, request.actor
    require_practice(actor, PracticeAction.VIEW_SETTINGS, practice.pk)
    clinicians = clinicians_of_practice(practice.pk)
    with translation.override("fr"):
        pdf = render_pdf(
            "practices/pdf/care_team_notice.html",
            {
                "practice": practice,
                "practice_team": practice.care_team_mode == CareTeamMode.PRACTICE,
                "clinicians": clinicians,
                "printed_on": timezone.localdate(),
            },
        )
    record_event(
        "practice.care_team_notice.print",
        actor=actor,
        practice_id=practice.pk,
        target=f"practice:{practice.slug}",
        details={"mode": practice.care_team_mode},
    )
    return pdf_response(pdf, "equipe-de-soins.pdf")
