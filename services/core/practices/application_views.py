"""The applications to join, for the cooperative's administrators: the list, one
application, approving it (the practice is provisioned and its first administrator's
invitation is printed) or refusing it with a reason.

Thin views: the rule is the policy's (``CooperativeAction.REVIEW_APPLICATIONS``), the
writes and their audit are ``services.applications``. Nothing here reads a practice's
data: an application is what the applicant wrote, and the new practice has no patient.
"""

from __future__ import annotations

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core import tenancy
from core.access.policy import Actor, CooperativeAction
from core.access.services import require_cooperative
from core.accounts.selectors import actor_for
from core.accounts.services import staff
from core.audit.services import record_event
from core.documents.pdf import pdf_response, render_pdf
from core.practices import selectors
from core.practices.context import AuthenticatedRequest
from core.practices.forms import RefuseForm
from core.practices.models import MembershipApplication
from core.practices.services import applications
from core.practices.staff_views import SHEETS


def _reviewer(request: AuthenticatedRequest, target: str) -> Actor:
    """The person as cooperative administrator (no practice), or a 403, audited."""
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.REVIEW_APPLICATIONS, target=target)
    return actor


def _application_or_404(application_id: int) -> MembershipApplication:
    application = selectors.application_get(application_id)
    if application is None:
        raise Http404(_("No such application."))
    return application


@require_GET
def application_list(request: AuthenticatedRequest) -> HttpResponse:
    actor = _reviewer(request, "cooperative:applications")
    rows = selectors.applications()
    record_event(
        "cooperative.applications.read",
        actor=actor,
        practice_id=None,
        target="cooperative:applications",
        details={"applications": len(rows)},
    )
    return render(request, "practices/applications.html", {"applications": rows})


def _invitation_context(
    request: HttpRequest, application: MembershipApplication
) -> dict[str, object]:
    """The first administrator's invitation, with its link while this session holds its
    secret (made by the approval in this session, and not used yet)."""
    if application.practice_id is None:
        return {}
    # Invitations are the practice's rows (row-level security): read within it, and
    # nothing else of it.
    # The first administrator's latest link: a re-send replaces the first one.
    with tenancy.practice_context(application.practice_id, request.user.pk):
        person_id = selectors.first_admin_of(application.practice_id)
        invitation = (
            selectors.latest_invitation_of(application.practice_id, person_id)
            if person_id is not None
            else None
        )
    if invitation is None:
        return {}
    context: dict[str, object] = {
        "invitation": invitation,
        "person": invitation.person,
        "practice": application.practice,
        "link": None,
        "printed_at": timezone.now(),
    }
    secret = request.session.get(SHEETS, {}).get(str(invitation.pk))
    if secret is not None and invitation.is_usable():
        link = request.build_absolute_uri(reverse("accounts:invitation", args=[secret]))
        context["link"] = link
        context["qr_svg"] = segno.make(link, error="m").svg_inline(scale=4, dark="#000")
    return context


def _page(
    request: AuthenticatedRequest,
    application: MembershipApplication,
    refuse_form: RefuseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "application": application,
        "refuse_form": refuse_form or RefuseForm(),
        **_invitation_context(request, application),
    }
    return render(request, "practices/application.html", context, status=status)


@require_GET
def application_detail(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    actor = _reviewer(request, f"application:{application_id}")
    application = _application_or_404(application_id)
    record_event(
        "cooperative.application.read",
        actor=actor,
        practice_id=None,
        target=f"application:{application_id}",
    )
    return _page(request, application)


@require_POST
def application_approve(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    actor = _reviewer(request, f"application:{application_id}")
    application = _application_or_404(application_id)
    try:
        approval = applications.application_approve(actor=actor, application_id=application_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _page(request, application, status=400)
    _keep_sheet(request, approval.invitation)
    messages.success(
        request,
        _("The practice was created. Print the invitation of its first administrator."),
    )
    return redirect("cooperative:application", application_id)


@require_POST
def application_refuse(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    actor = _reviewer(request, f"application:{application_id}")
    application = _application_or_404(application_id)
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            applications.application_refuse(
                actor=actor, application_id=application_id, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("The application was refused."))
            return redirect("cooperative:application", application_id)
    return _page(request, application, refuse_form=form, status=400)


def _keep_sheet(request: HttpRequest, issued: staff.IssuedInvitation) -> None:
    """The link's secret, for this session only (the sheet and its PDF show it)."""
    sheets = dict(request.session.get(SHEETS, {}))
    sheets[str(issued.invitation.pk)] = issued.secret
    request.session[SHEETS] = sheets


@require_POST
def application_reinvite(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    """A new link for the first administrator who lost theirs (confirmed by the form's
    button, under the sentence saying the old link stops working)."""
    actor = _reviewer(request, f"application:{application_id}")
    application = _application_or_404(application_id)
    try:
        issued = applications.application_reinvite(actor=actor, application_id=application_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _page(request, application, status=400)
    _keep_sheet(request, issued)
    messages.success(
        request,
        _("A new invitation link was made: the previous one no longer works. Print it below."),
    )
    return redirect("cooperative:application", application_id)


@require_GET
def invitation_pdf(request: AuthenticatedRequest, application_id: int) -> HttpResponse:
    """The first administrator's invitation on paper, from the session that approved."""
    actor = _reviewer(request, f"application:{application_id}")
    application = _application_or_404(application_id)
    context = _invitation_context(request, application)
    if not context.get("link"):
        # The secret is kept only by the session that made the link (and until it is used).
        return redirect("cooperative:application", application_id)
    pdf = render_pdf("accounts/pdf/invitation.html", context)
    record_event(
        "cooperative.invitation.print",
        actor=actor,
        practice_id=None,
        target=f"application:{application_id}",
    )
    return pdf_response(pdf, f"invitation-{application_id}.pdf")
