from django.urls import path

from core.practices import rights_views, staff_views, token_views, views

app_name = "practices"

urlpatterns = [
    path("", views.practice_home, name="home"),
    path("equipe-de-soins/", views.care_team_setting, name="care-team"),
    path("equipe-de-soins/affiche.pdf", views.care_team_notice_pdf, name="care-team-notice"),
    path("droits/", rights_views.patient_rights, name="patient-rights"),
    path(
        "droits/affiche.pdf", rights_views.patient_rights_poster_pdf, name="patient-rights-poster"
    ),
    path(
        "droits/depliant.pdf",
        rights_views.patient_rights_leaflet_pdf,
        name="patient-rights-leaflet",
    ),
    path("jetons/", token_views.api_tokens_view, name="api-tokens"),
    path(
        "jetons/<str:key_id>/revoquer/",
        token_views.api_token_revoke_view,
        name="api-token-revoke",
    ),
    path("equipe/", staff_views.staff_list, name="staff-list"),
    path("equipe/inviter/", staff_views.staff_invite, name="staff-invite"),
    path(
        "equipe/invitations/<int:invitation_id>/",
        staff_views.invitation_sheet,
        name="invitation-sheet",
    ),
    path(
        "equipe/invitations/<int:invitation_id>.pdf",
        staff_views.invitation_sheet_pdf,
        name="invitation-sheet-pdf",
    ),
    path("equipe/<int:person_id>/", staff_views.staff_member, name="staff-member"),
    path("equipe/<int:person_id>/roles/", staff_views.staff_roles, name="staff-roles"),
    path(
        "equipe/<int:person_id>/desactiver/",
        staff_views.staff_deactivate,
        name="staff-deactivate",
    ),
    path(
        "equipe/<int:person_id>/second-facteur/",
        staff_views.staff_reset_second_factor,
        name="staff-reset-second-factor",
    ),
    path("equipe/<int:person_id>/deverrouiller/", staff_views.staff_unlock, name="staff-unlock"),
    path(
        "equipe/<int:person_id>/nouvelle-invitation/",
        staff_views.staff_reinvite,
        name="staff-reinvite",
    ),
]
