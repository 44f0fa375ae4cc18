"""The practitioner's day. The practice home (/p/<slug>/, ``day_views.home``) is routed by
the composition root (carnet/urls.py): core, which owns the address, cannot import the
agenda."""

from django.urls import URLPattern, path

from agenda import day_views

urlpatterns: list[URLPattern] = [
    path("aujourdhui/", day_views.today, name="today"),
    path(
        "aujourdhui/<int:appointment_id>/recevoir/",
        day_views.receive,
        name="receive",
    ),
]
