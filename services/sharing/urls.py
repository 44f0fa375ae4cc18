from django.urls import path

from sharing import directory_views, share_views, views

app_name = "sharing"

urlpatterns = [
    path("patients/<int:patient_id>/consentements/", views.consents, name="consents"),
    path(
        "patients/<int:patient_id>/consentements/<int:consent_id>/retirer/",
        views.consent_revoke,
        name="consent-revoke",
    ),
    path(
        "patients/<int:patient_id>/consentements/<int:consent_id>/recu.pdf",
        views.consent_receipt,
        name="consent-receipt",
    ),
    path("patients/<int:patient_id>/partages/", share_views.patient_shares, name="patient-shares"),
    path("partages/recus/", views.inbox, name="inbox"),
    path("partages/recus/<str:message_id>/", share_views.inbox_share, name="inbox-share"),
    path(
        "partages/recus/<str:message_id>/accepter/",
        share_views.inbox_accept,
        name="inbox-accept",
    ),
    path(
        "partages/recus/<str:message_id>/refuser/",
        share_views.inbox_decline,
        name="inbox-decline",
    ),
    path("partenaires/", directory_views.partners, name="partners"),
]
