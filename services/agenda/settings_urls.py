"""settings pages of the agenda."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
