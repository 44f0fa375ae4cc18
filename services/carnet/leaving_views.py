"""Leaving the cooperative, for the practice's administrators (``/p/<slug>/adhesion/depart/``):
take the full export encrypted to their own OpenPGP key, ask to leave (the notice starts),
or stay after all. The export needs every service's part, so this page lives in the
composition root; the rules are the policy's (``PracticeAction.LEAVE_COOPERATIVE``), the
writes ``core.practices.services.leaving``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from carnet.practice_export import export_archive
from core import openpgp
from core.access.policy import PracticeAction
from core.access.services import require_practice
from core.forms import attach_service_errors
from core.practices import selectors as practices
from core.practices.context import PracticeRequest, practice_view
from core.practices.services import leaving

MAX_KEY = 100_000


class ExportForm(forms.Form):
    public_key = forms.CharField(
        label=_("Your OpenPGP public key"),
        help_text=_(
            "The export is encrypted to this key: only whoever holds its secret half can"
            " read it, not the node. Paste the whole block, from"
            " “-----BEGIN PGP PUBLIC KEY BLOCK-----” to its end."
        ),
        max_length=MAX_KEY,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "lang": "zxx"}),
    )


class LeaveForm(forms.Form):
    confirmation = forms.CharField(label=_("Type the practice's name to confirm"), max_length=200)


def _page(
    request: PracticeRequest,
    export_form: ExportForm | None = None,
    leave_form: LeaveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "carnet/leaving.html",
        {
            "membership": practices.membership_of(request.practice.pk),
            "export_form": export_form or ExportForm(),
            "leave_form": leave_form or LeaveForm(),
            "notice_days": leaving.notice_days(),
        },
        status=status,
    )


def _allowed(request: PracticeRequest) -> None:
    require_practice(
        request.actor,
        PracticeAction.LEAVE_COOPERATIVE,
        request.practice.pk,
        target="cooperative:leaving",
    )


@practice_view
@require_GET
def leaving_page(request: PracticeRequest) -> HttpResponse:
    _allowed(request)
    return _page(request)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@practice_view
@require_POST
def leaving_export(request: PracticeRequest) -> HttpResponseBase:
    """The whole practice, encrypted to the key given, as a download."""
    _allowed(request)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _page(request, export_form=form, status=400)
    practice = request.practice
    with export_archive(practice) as (archive, counts):
        encrypted = archive.with_name(archive.name + ".gpg")
        try:
            recipient = openpgp.encrypt_for(form.cleaned_data["public_key"], archive, encrypted)
        except openpgp.NotAnEncryptionKey:
            form.add_error(
                "public_key",
                _(
                    "This is not one OpenPGP public key that can encrypt. Paste the public"
                    " key only (never the secret one), whole."
                ),
            )
            return _page(request, export_form=form, status=400)
        leaving.export_recorded(
            actor=request.actor,
            practice=practice,
            archive_sha256=_sha256(encrypted),
            recipient=recipient,
            rows=counts,
        )
        # Opened before the temporary folder goes: the open file outlives its name.
        stream = encrypted.open("rb")
    name = f"carnet-{practice.slug}-{timezone.localdate():%Y-%m-%d}.tar.gz.gpg"
    return FileResponse(
        stream, as_attachment=True, filename=name, content_type="application/pgp-encrypted"
    )


@practice_view
@require_POST
def leaving_request(request: PracticeRequest) -> HttpResponse:
    _allowed(request)
    form = LeaveForm(request.POST)
    if form.is_valid():
        try:
            membership = leaving.leaving_request(
                actor=request.actor,
                practice_id=request.practice.pk,
                confirmation=form.cleaned_data["confirmation"],
            )
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Your request to leave is recorded. The data is deleted on %(day)s.")
                % {"day": membership.leaving_effective_on},
            )
            return redirect("leaving", request.practice.slug)
    return _page(request, leave_form=form, status=400)


@practice_view
@require_POST
def leaving_withdraw(request: PracticeRequest) -> HttpResponse:
    _allowed(request)
    try:
        leaving.leaving_withdraw(actor=request.actor, practice_id=request.practice.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your practice stays in the cooperative."))
    return redirect("leaving", request.practice.slug)
