from django.urls import path

from core.practices import application_views, cooperative_views

app_name = "cooperative"

urlpatterns = [
    path("", cooperative_views.cooperative_members, name="members"),
    path("adherents.pdf", cooperative_views.cooperative_members_pdf, name="members-pdf"),
    path("assemblee.pdf", cooperative_views.assembly_sheet_pdf, name="assembly-pdf"),
    path("demandes/", application_views.application_list, name="applications"),
    path(
        "demandes/<int:application_id>/",
        application_views.application_detail,
        name="application",
    ),
    path(
        "demandes/<int:application_id>/approuver/",
        application_views.application_approve,
        name="application-approve",
    ),
    path(
        "demandes/<int:application_id>/refuser/",
        application_views.application_refuse,
        name="application-refuse",
    ),
    path(
        "demandes/<int:application_id>/nouvelle-invitation/",
        application_views.application_reinvite,
        name="application-reinvite",
    ),
    path(
        "demandes/<int:application_id>/invitation.pdf",
        application_views.invitation_pdf,
        name="application-invitation-pdf",
    ),
]
