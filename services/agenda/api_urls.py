"""The agenda's REST API, under /api/v1/."""

from django.urls import URLPattern

app_name = "agenda-api"

urlpatterns: list[URLPattern] = []
