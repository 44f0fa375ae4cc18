"""The practice home page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.accounts.selectors import staff_of_practice
from core.practices.context import practice_view


@practice_view
def practice_home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(
        request,
        "practices/home.html",
        {
            "roles": sorted(actor.roles),
            "staff": staff_of_practice(request.practice.pk),  # type: ignore[attr-defined]
        },
    )
