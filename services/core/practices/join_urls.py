from django.urls import path

from core.practices import join_views

app_name = "join"

urlpatterns = [
    path("", join_views.apply, name="apply"),
    path("envoyee/", join_views.sent, name="sent"),
]
