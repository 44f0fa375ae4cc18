"""The laboratory intake's REST API, under /api/v1/lab/ (docs/api.md)."""

from django.urls import URLPattern, path

from lab import api

app_name = "lab-api"

FILE = "lab/files/<int:lab_file_id>/"

urlpatterns: list[URLPattern] = [
    path("lab/files/", api.FilesApi.as_view(), name="files"),
    path("lab/queue/", api.QueueApi.as_view(), name="queue"),
    path("lab/to-read/", api.ToReadApi.as_view(), name="to-read"),
    path(FILE, api.ReportApi.as_view(), name="report"),
    path(FILE + "match/", api.MatchApi.as_view(), name="match"),
    path(FILE + "sign-off/", api.SignOffApi.as_view(), name="sign-off"),
]
