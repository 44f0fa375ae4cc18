from django.urls import path

from sharing import directory_views

app_name = "cooperative-directory"

urlpatterns = [
    path("annuaire/", directory_views.cooperative_directory, name="directory"),
]
