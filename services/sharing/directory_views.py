"""Pages of the cooperative's directory: the cooperative's administrator installs the
signed directory on this node (``/cooperative/annuaire/``); a practice sees its partner
practices and the node each is on (``/p/<slug>/partenaires/``).

Thin views: the rules live in the access policy (``decide_cooperative``,
``decide_practice``), the check and the installation in ``sharing.services``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from core.access.policy import CooperativeAction, PracticeAction
from core.access.services import require_cooperative, require_practice
from core.accounts.selectors import actor_for
from core.audit.services import Outcome, record_event
from core.practices.context import AuthenticatedRequest, PracticeRequest, practice_view
from sharing import selectors, services
from sharing.directory import DirectoryError

MAX_FILE_BYTES = 2 * 1024 * 1024


class DirectoryForm(forms.Form):
    signed = forms.FileField(
        label=gettext_lazy("Signed directory (file received from the cooperative)")
    )
    cooperative_key = forms.FileField(
        label=gettext_lazy("The cooperative's public key (only the first time)"),
        required=False,
    )

    def _text(self, name: str) -> str:
        upload = self.cleaned_data.get(name)
        if not upload:
            return ""
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("This file is too large for a directory."))
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError as error:
            raise forms.ValidationError(_("This file is not a text file.")) from error

    def clean_signed(self) -> str:
        return self._text("signed")

    def clean_cooperative_key(self) -> str:
        return self._text("cooperative_key")


def _directory_context() -> dict[str, object]:
    entries = selectors.directory_entries(order=("node", "name", "slug"))
    return {
        "entries": entries,
        "version": entries[0].directory_version if entries else None,
        "imported_at": entries[0].imported_at if entries else None,
        "node": selectors.node_name(),
        "fingerprint": settings.CARNET_COOPERATIVE_FINGERPRINT,
    }


@require_http_methods(["GET", "POST"])
def cooperative_directory(request: AuthenticatedRequest) -> HttpResponse:
    actor = actor_for(request.user, None)
    require_cooperative(actor, CooperativeAction.MANAGE_DIRECTORY, target="cooperative:directory")
    form = DirectoryForm(request.POST or None, request.FILES or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            key = form.cleaned_data["cooperative_key"] or services.cooperative_key_on_node()
            count = services.directory_import(
                form.cleaned_data["signed"], cooperative_key=key, actor=actor
            )
        except DirectoryError as error:
            refusal = error.reason
            record_event(
                "directory.refused",
                outcome=Outcome.DENIED,
                actor=actor,
                reason=str(error),
                target="cooperative:directory",
                details={"code": error.code},
            )
        else:
            messages.success(
                request,
                _("The directory is verified and installed: %(count)s practices.")
                % {"count": count},
            )
            return redirect("cooperative-directory:directory")
    # The page shows the installed directory (after a refusal too).
    record_event("directory.read", actor=actor, target="cooperative:directory")
    return render(
        request,
        "sharing/cooperative_directory.html",
        {"form": form, "refusal": refusal, **_directory_context()},
        status=400 if request.method == "POST" else 200,
    )


@practice_view
@require_GET
def partners(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    require_practice(
        request.actor, PracticeAction.VIEW_SETTINGS, practice.pk, target="practice:partners"
    )
    node = selectors.node_name()
    return render(
        request,
        "sharing/partners.html",
        {
            "partners": selectors.partner_practices(node=node, slug=practice.slug),
            "own": selectors.own_listing(node=node, slug=practice.slug),
            "node": node,
        },
    )
