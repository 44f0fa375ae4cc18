"""A person's own API tokens for this practice: made and revoked on a practice page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.accounts import services
from core.accounts.forms import ApiTokenForm
from core.accounts.models import ApiToken
from core.practices.context import PracticeRequest, practice_view


@practice_view
@require_http_methods(["GET", "POST"])
def api_tokens_view(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    person = request.user
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if request.method == "POST" and form.is_valid():
        _token, created = services.api_token_create(
            person=person,
            practice=practice,
            name=form.cleaned_data["name"],
        )
        form = ApiTokenForm()
    tokens = ApiToken.objects.filter(person=person, practice=practice)
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "created": created},
        status=400 if request.method == "POST" and not created else 200,
    )


@practice_view
@require_POST
def api_token_revoke_view(request: PracticeRequest, key_id: str) -> HttpResponse:
    practice = request.practice
    token = ApiToken.objects.filter(person=request.user, practice=practice, key_id=key_id).first()
    if token is None:
        raise Http404(_("No such token."))
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token was revoked."))
    return redirect("practices:api-tokens", practice_slug=practice.slug)
