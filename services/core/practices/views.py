"""The practice home page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from core.accounts.models import Role
from core.accounts.selectors import staff_of_practice
from core.practices.context import PracticeRequest, practice_view


@practice_view
def practice_home(request: PracticeRequest) -> HttpResponse:
    actor = request.actor
    return render(
        request,
        "practices/home.html",
        {
            "roles": [Role(role).label for role in sorted(actor.roles)],
            "is_practice_admin": Role.PRACTICE_ADMIN in actor.roles,
            "staff": staff_of_practice(request.practice.pk),
        },
    )
