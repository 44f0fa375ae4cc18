from django.urls import path

from core.practices import cooperative_views

app_name = "cooperative"

urlpatterns = [
    path("", cooperative_views.cooperative_members, name="members"),
    path("adherents.pdf", cooperative_views.cooperative_members_pdf, name="members-pdf"),
]
