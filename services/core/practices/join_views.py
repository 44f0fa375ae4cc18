"""Applying to join the cooperative: the node's public page (no login). A practice
says who it is, its practitioners, its plan and the shares it subscribes, and accepts
the statutes; a cooperative administrator then decides (``application_views``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core import requestinfo
from core.access.policy import Actor, CooperativeAction, decide_cooperative
from core.accounts.selectors import actor_for
from core.audit.services import record_event
from core.practices.forms import ApplicationForm
from core.practices.services import applications


@login_not_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_robot():
            # Answered like a success, so a robot learns nothing; nothing is stored.
            record_event(
                "cooperative.application.dropped",
                practice_id=None,
                target="application",
                reason="honeypot field filled",
            )
            return redirect("join:sent")
        if form.is_valid():
            try:
                applications.application_submit(
                    data=form.to_input(),
                    address=requestinfo.current().ip,
                    entered_by=_paper_clerk(request),
                )
            except applications.TooManyApplications as error:
                form.add_error(None, error.messages)
                status = 429
            except ValidationError as error:
                form.attach(error)
                status = 400
            else:
                return redirect("join:sent")
        else:
            status = 400
    return render(request, "practices/join.html", {"form": form}, status=status)


def _paper_clerk(request: HttpRequest) -> Actor | None:
    """A cooperative administrator logged in types an application received on paper."""
    if not request.user.is_authenticated:
        return None
    actor = actor_for(request.user, None)
    decision = decide_cooperative(actor, CooperativeAction.REVIEW_APPLICATIONS)
    return actor if decision.allowed else None


@login_not_required
@require_GET
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "practices/join_sent.html")
