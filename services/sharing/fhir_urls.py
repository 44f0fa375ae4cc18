"""FHIR R4 REST API routes (read and search), mounted at /fhir/r4/."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
