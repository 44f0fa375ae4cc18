from django.urls import path

from billing import (
    care_time_views,
    cover_views,
    membership_views,
    printer_views,
    tariff_views,
    tiers_payant_views,
    views,
)

app_name = "billing"

urlpatterns = [
    path("patients/<int:patient_id>/facturation/", views.patient_billing, name="patient"),
    path("patients/<int:patient_id>/facturation/nouvelle/", views.invoice_new, name="invoice-new"),
    path("patients/<int:patient_id>/couverture/", cover_views.cover, name="cover"),
    path("factures/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path("factures/<int:invoice_id>/avoir/", views.invoice_credit, name="invoice-credit"),
    path("factures/<int:invoice_id>/feuille-de-soins.pdf", views.care_sheet_pdf, name="care-sheet"),
    path("factures/<int:invoice_id>/recu.pdf", views.receipt_pdf, name="receipt"),
    path("caisse/", views.cash_day, name="cash-day"),
    path("caisse/cloturer/", views.cash_day_close, name="cash-day-close"),
    path("caisse/<str:document>.pdf", views.cash_day_pdf, name="cash-day-pdf"),
    path("caisse/compte-bancaire/<int:person_id>/", views.bank_details, name="bank-details"),
    path("rapport/saisie/", views.care_work_report, name="care-work"),
    path("rapport/temps/", care_time_views.care_time_report, name="care-time"),
    path("rapport/temps/partage/", care_time_views.care_time_share, name="care-time-share"),
    path("rapport/temps/cabinet/", care_time_views.care_time_practice, name="care-time-practice"),
    path("export/fec/", views.fec_export, name="fec"),
    path("export/csv/", views.csv_export, name="csv"),
    path("cotisations/", views.dues_list, name="dues"),
    path("adhesion/", membership_views.membership, name="membership"),
    path("tiers-payant/", tiers_payant_views.aging, name="tiers-payant"),
    path("tiers-payant/paiement/", tiers_payant_views.insurer_payment, name="insurer-payment"),
    path("factures/<int:invoice_id>/rejet/", tiers_payant_views.rejection, name="rejection"),
    path("tarifs/", tariff_views.schedule, name="tariffs"),
    path("tarifs/nouveau/", tariff_views.tariff_new, name="tariff-new"),
    path("tarifs/import/", tariff_views.tariff_import, name="tariff-import"),
    path("feuilles-de-soins/imprimante/", printer_views.printer_offsets, name="printer-offsets"),
    path("feuilles-de-soins/imprimante/essai.pdf", printer_views.printer_test, name="printer-test"),
]
