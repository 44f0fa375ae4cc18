from django.urls import path

from records import care_team_views, choices_views, documents_views, identity_views, views

app_name = "records"

urlpatterns = [
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/nouveau/", views.patient_new, name="patient-new"),
    path("patients/<int:patient_id>/", views.chart, name="chart"),
    path(
        "patients/<int:patient_id>/identite/",
        identity_views.identity_correct,
        name="identity-correct",
    ),
    path("patients/<int:patient_id>/deces/", identity_views.death_record, name="death-record"),
    path(
        "patients/<int:patient_id>/medecin-traitant/",
        identity_views.gp_change,
        name="gp-change",
    ),
    path(
        "patients/<int:patient_id>/fusionner/", identity_views.patient_merge, name="patient-merge"
    ),
    path(
        "patients/<int:patient_id>/consultation/", views.consultation_new, name="consultation-new"
    ),
    path("patients/<int:patient_id>/ordonnance/", views.prescription_new, name="prescription-new"),
    path(
        "patients/<int:patient_id>/ordonnance/verifier/",
        views.prescription_check,
        name="prescription-check",
    ),
    path("patients/<int:patient_id>/ajouter/<str:entry_type>/", views.entry_new, name="entry-new"),
    path(
        "patients/<int:patient_id>/<str:entry_type>/<int:entry_id>/corriger/",
        views.entry_correct,
        name="entry-correct",
    ),
    path(
        "patients/<int:patient_id>/ordonnance/<int:prescription_id>.pdf",
        views.prescription_pdf,
        name="prescription-pdf",
    ),
    path("patients/<int:patient_id>/dossier.pdf", views.record_pdf, name="record-pdf"),
    path("patients/<int:patient_id>/acces.pdf", views.access_report_pdf, name="access-report-pdf"),
    path(
        "patients/<int:patient_id>/vue-patient/",
        views.patient_view_start,
        name="patient-view-start",
    ),
    path("vue-patient/", views.patient_view_page, name="patient-view"),
    path("vue-patient/sortie/", views.patient_view_exit, name="patient-view-exit"),
    path("patients/<int:patient_id>/choix/", choices_views.patient_choices, name="patient-choices"),
    path(
        "patients/<int:patient_id>/choix/<int:restriction_id>/lever/",
        choices_views.restriction_lift,
        name="restriction-lift",
    ),
    path(
        "patients/<int:patient_id>/choix/autorisation/<int:grant_id>/retirer/",
        choices_views.label_grant_revoke,
        name="label-grant-revoke",
    ),
    path("patients/<int:patient_id>/equipe/", care_team_views.care_team, name="care-team"),
    path(
        "patients/<int:patient_id>/equipe/ajouter/",
        care_team_views.care_team_add,
        name="care-team-add",
    ),
    path(
        "patients/<int:patient_id>/equipe/retirer/",
        care_team_views.care_team_remove,
        name="care-team-remove",
    ),
    path("patients/<int:patient_id>/urgence/", choices_views.break_glass, name="break-glass"),
    path(
        "patients/<int:patient_id>/urgence/<int:access_id>/lettre.pdf",
        choices_views.break_glass_letter,
        name="break-glass-letter",
    ),
    path(
        "patients/<int:patient_id>/urgence/<int:access_id>/lettre/remise/",
        choices_views.break_glass_letter_done,
        name="break-glass-letter-done",
    ),
    path("acces-urgence/", choices_views.break_glass_review, name="break-glass-review"),
    path(
        "patients/<int:patient_id>/documents/ajouter/",
        documents_views.document_upload,
        name="document-upload",
    ),
    path("patients/<int:patient_id>/courrier/", documents_views.letter_new, name="letter-new"),
    path(
        "patients/<int:patient_id>/certificats/",
        documents_views.certificate_choose,
        name="certificate-choose",
    ),
    path(
        "patients/<int:patient_id>/certificat/",
        documents_views.certificate_new,
        name="certificate-new",
    ),
    path(
        "patients/<int:patient_id>/documents/<int:document_id>/",
        documents_views.document,
        name="document",
    ),
    path("medicaments/", views.drug_search, name="drug-search"),
    path("allergenes/", views.allergen_search, name="allergen-search"),
    path("cim10/", views.cim10_search, name="cim10-search"),
    path("vaccins/", views.vaccine_search, name="vaccine-search"),
]
