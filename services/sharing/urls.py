from django.urls import path

from sharing import directory_views, views

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
    path("partages/recus/", views.inbox, name="inbox"),
    path("partenaires/", directory_views.partners, name="partners"),
]
