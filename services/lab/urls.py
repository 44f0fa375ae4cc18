from django.urls import path

from lab import views

app_name = "lab"

urlpatterns = [
    path("resultats/", views.to_read, name="to-read"),
    path("resultats/reception/", views.reception, name="reception"),
    path("resultats/<int:lab_file_id>/", views.report, name="report"),
    path("resultats/<int:lab_file_id>/associer/", views.match, name="match"),
]
