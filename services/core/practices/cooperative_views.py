"""The cooperative's administration: the member practices of this node, for the
cooperative's administrators (a page, its PDF, and ``practices.api`` for programs).

Thin views: the rule lives in the access policy (``decide_cooperative``), the read in
``practices.selectors``. Nothing here reads a practice's data, only its membership.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import navigation
from core.access.policy import Actor, CooperativeAction
from core.access.services import require_cooperative
from core.accounts.selectors import actor_for
from core.audit.services import record_event
from core.documents.pdf import pdf_response, render_pdf
from core.practices import selectors
from core.practices.context import AuthenticatedRequest


def _cooperative_admin(request: AuthenticatedRequest, target: str) -> Actor:
    """The person as cooperative administrator (no practice), or a 403, audited."""
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.VIEW_MEMBERS, target=target)
    return actor


def _context() -> dict[str, object]:
    members = selectors.cooperative_members()
    return {
        "members": members,
        "summary": selectors.cooperative_summary(members),
        "node": settings.CARNET_NODE_NAME,
        "printed_at": timezone.now(),
    }


@require_GET
def cooperative_members(request: AuthenticatedRequest) -> HttpResponse:
    actor = _cooperative_admin(request, "cooperative:members")
    context = _context()
    record_event(
        "cooperative.members.read",
        actor=actor,
        target="cooperative:members",
        details={"practices": len(context["members"])},  # type: ignore[arg-type]
    )
    # The cooperative's other pages, as their apps registered them (core.navigation).
    context["cooperative_links"] = navigation.links(navigation.COOPERATIVE)
    return render(request, "practices/cooperative_members.html", context)


@require_GET
def cooperative_members_pdf(request: AuthenticatedRequest) -> HttpResponse:
    actor = _cooperative_admin(request, "cooperative:members")
    context = _context()
    pdf = render_pdf("practices/pdf/cooperative_members.html", context)
    record_event(
        "cooperative.members.print",
        actor=actor,
        target="cooperative:members",
        details={"practices": len(context["members"])},  # type: ignore[arg-type]
    )
    return pdf_response(pdf, "cooperative-membres.pdf")


# Members with a vote at the general assembly: one member, one vote, whatever its shares.
# A practice in its notice is a member until it leaves; an applicant is not one yet.
VOTING = ("active", "suspended", "leaving")


@require_GET
def assembly_sheet_pdf(request: AuthenticatedRequest) -> HttpResponse:
    """The general assembly's attendance sheet: each member, its one vote, a line to sign."""
    actor = _cooperative_admin(request, "cooperative:assembly")
    members = [member for member in selectors.cooperative_members() if member.status in VOTING]
    context = {
        "members": members,
        "votes": len(members),
        "node": settings.CARNET_NODE_NAME,
        "printed_at": timezone.now(),
    }
    pdf = render_pdf("practices/pdf/assembly_sheet.html", context)
    record_event(
        "cooperative.assembly.print",
        actor=actor,
        target="cooperative:assembly",
        details={"members": len(members)},
    )
    return pdf_response(pdf, "assemblee-generale-emargement.pdf")
