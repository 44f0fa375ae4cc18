"""The practice's team, run by its administrators (the invitation a new person opens is
``core.accounts.views.invitation_accept``).

Thin views: the access policy and the audit live in ``services.staff``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.access.policy import PracticeAction
from core.access.services import require_practice
from core.accounts import selectors
from core.accounts.forms import (
    AdminCodeForm,
    DeactivateForm,
    InviteForm,
    RolesForm,
)
from core.accounts.models import Invitation
from core.accounts.services import staff
from core.documents.pdf import pdf_response, render_pdf
from core.forms import attach_service_errors
from core.practices.context import PracticeRequest, practice_view

# Links made in this session, by invitation id: the secret is stored nowhere else, so the
# printable sheet can be shown (and printed again) only from the session that made it.
SHEETS = "carnet_invitation_sheets"


def _keep_sheet(request: HttpRequest, issued: staff.IssuedInvitation) -> None:
    sheets = dict(request.session.get(SHEETS, {}))
    sheets[str(issued.invitation.pk)] = issued.secret
    request.session[SHEETS] = sheets


@practice_view
def staff_list(request: PracticeRequest) -> HttpResponse:
    require_practice(
        request.actor, PracticeAction.MANAGE_STAFF, request.practice.pk, target="staff"
    )
    members = selectors.staff_list(request.practice.pk)
    locked = selectors.locked_usernames([m.person.username for m in members])
    rows = [(member, member.is_locked(locked)) for member in members]
    return render(request, "accounts/staff_list.html", {"rows": rows})


@practice_view
@require_http_methods(["GET", "POST"])
def staff_invite(request: PracticeRequest) -> HttpResponse:
    require_practice(
        request.actor, PracticeAction.MANAGE_STAFF, request.practice.pk, target="staff"
    )
    form = InviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = staff.staff_invite(
                actor=request.actor, practice=request.practice, **form.cleaned_data
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            _keep_sheet(request, issued)
            return redirect(
                "practices:invitation-sheet", request.practice.slug, issued.invitation.pk
            )
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/staff_invite.html", {"form": form}, status=status)


def _sheet_context(request: PracticeRequest, invitation_id: int) -> dict[str, object]:
    invitation = (
        Invitation.objects.select_related("person")
        .filter(pk=invitation_id, practice=request.practice)
        .first()
    )
    if invitation is None:
        raise Http404(_("No such invitation."))
    context: dict[str, object] = {
        "invitation": invitation,
        "person": invitation.person,
        "practice": request.practice,
        "printed_at": timezone.now(),
        "link": None,
    }
    secret = request.session.get(SHEETS, {}).get(str(invitation_id))
    if secret is not None and invitation.is_usable():
        link = request.build_absolute_uri(reverse("accounts:invitation", args=[secret]))
        context["link"] = link
        context["qr_svg"] = segno.make(link, error="m").svg_inline(scale=4, dark="#000")
    return context


@practice_view
def invitation_sheet(request: PracticeRequest, invitation_id: int) -> HttpResponse:
    require_practice(
        request.actor,
        PracticeAction.MANAGE_STAFF,
        request.practice.pk,
        target=f"invitation:{invitation_id}",
    )
    context = _sheet_context(request, invitation_id)
    return render(request, "accounts/invitation_sheet.html", context)


@practice_view
def invitation_sheet_pdf(request: PracticeRequest, invitation_id: int) -> HttpResponse:
    require_practice(
        request.actor,
        PracticeAction.MANAGE_STAFF,
        request.practice.pk,
        target=f"invitation:{invitation_id}",
    )
    context = _sheet_context(request, invitation_id)
    if context["link"] is None:
        # The secret is kept only by the session that made the link (and only until used).
        return redirect("practices:invitation-sheet", request.practice.slug, invitation_id)
    pdf = render_pdf("accounts/pdf/invitation.html", context)
    return pdf_response(pdf, f"invitation-{invitation_id}.pdf")


def _member_or_404(request: PracticeRequest, person_id: int) -> selectors.StaffMember:
    member = selectors.staff_member(request.practice.pk, person_id)
    if member is None:
        raise Http404(_("No such member of the practice."))
    return member


@practice_view
def staff_member(request: PracticeRequest, person_id: int) -> HttpResponse:
    return _member_page(request, _managed_member(request, person_id))


def _member_page(
    request: PracticeRequest,
    member: selectors.StaffMember,
    status: int = 200,
    **forms: object,
) -> HttpResponse:
    locked = selectors.locked_usernames([member.person.username])
    context = {
        "member": member,
        "locked": member.is_locked(locked),
        "is_self": member.person.pk == request.actor.person_id,
        "roles_form": forms.get("roles_form")
        or RolesForm(initial={"roles": member.roles or member.former_roles}),
        "deactivate_form": forms.get("deactivate_form") or DeactivateForm(),
        "reset_form": forms.get("reset_form") or AdminCodeForm(),
    }
    return render(request, "accounts/staff_member.html", context, status=status)


def _managed_member(request: PracticeRequest, person_id: int) -> selectors.StaffMember:
    """The member an administrator acts on: the policy first (a refusal audited), then
    the person, who must be of this practice (404 otherwise)."""
    require_practice(
        request.actor,
        PracticeAction.MANAGE_STAFF,
        request.practice.pk,
        target=f"person:{person_id}",
    )
    return _member_or_404(request, person_id)


def _on(request: PracticeRequest, person_id: int) -> dict[str, Any]:
    """Who acts, in which practice, on whom: the arguments every staff service takes."""
    return {"actor": request.actor, "practice": request.practice, "person_id": person_id}


def _act(
    request: PracticeRequest,
    person_id: int,
    form_name: str,
    form: forms.Form,
    do: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Run one administrator action from its form: done → back to the member's page with
    a message; refused → the page again with the error on the form, nothing stored."""
    member = _managed_member(request, person_id)
    if form.is_valid():
        try:
            message = do(form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(request, message)
            return redirect("practices:staff-member", request.practice.slug, person_id)
    return _member_page(request, member, 400, **{form_name: form})


@practice_view
@require_POST
def staff_roles(request: PracticeRequest, person_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        member = _member_or_404(request, person_id)
        if not member.is_active:
            staff.staff_reactivate(**_on(request, person_id), roles=data["roles"])
            return _("The person is active again.")
        staff.staff_set_roles(**_on(request, person_id), roles=data["roles"])
        return _("The roles were saved.")

    return _act(request, person_id, "roles_form", RolesForm(request.POST), do)


@practice_view
@require_POST
def staff_deactivate(request: PracticeRequest, person_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        staff.staff_deactivate(**_on(request, person_id), reason=data["reason"])
        return _("The person was deactivated: their sessions and API tokens no longer work.")

    return _act(request, person_id, "deactivate_form", DeactivateForm(request.POST), do)


@practice_view
@require_POST
def staff_reset_second_factor(request: PracticeRequest, person_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        staff.staff_reset_second_factor(**_on(request, person_id), admin_code=data["admin_code"])
        return _("The second factor was removed: the person sets up a new one at their next login.")

    return _act(request, person_id, "reset_form", AdminCodeForm(request.POST), do)


@practice_view
@require_POST
def staff_unlock(request: PracticeRequest, person_id: int) -> HttpResponse:
    _managed_member(request, person_id)
    staff.staff_unlock(**_on(request, person_id))
    messages.success(request, _("The account is unlocked."))
    return redirect("practices:staff-member", request.practice.slug, person_id)


@practice_view
@require_POST
def staff_reinvite(request: PracticeRequest, person_id: int) -> HttpResponse:
    member = _managed_member(request, person_id)
    try:
        issued = staff.staff_reinvite(**_on(request, person_id))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _member_page(request, member, 400)
    _keep_sheet(request, issued)
    return redirect("practices:invitation-sheet", request.practice.slug, issued.invitation.pk)
