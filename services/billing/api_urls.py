from django.urls import URLPattern, path

from billing import api

urlpatterns: list[URLPattern] = [
    path("fees/", api.FeesApi.as_view(), name="api-fees"),
    path("fee-schedule/", api.FeeScheduleApi.as_view(), name="api-fee-schedule"),
    path(
        "fee-schedule/import/", api.FeeScheduleImportApi.as_view(), name="api-fee-schedule-import"
    ),
    path(
        "patients/<int:patient_id>/invoices/", api.PatientInvoicesApi.as_view(), name="api-invoices"
    ),
    path("patients/<int:patient_id>/cover/", api.CoverApi.as_view(), name="api-cover"),
    path("invoices/<int:invoice_id>/", api.InvoiceApi.as_view(), name="api-invoice"),
    path("invoices/<int:invoice_id>/payments/", api.PaymentApi.as_view(), name="api-payments"),
    path(
        "invoices/<int:invoice_id>/credit-note/",
        api.CreditNoteApi.as_view(),
        name="api-credit-note",
    ),
    path(
        "invoices/<int:invoice_id>/care-sheet/", api.CareSheetApi.as_view(), name="api-care-sheet"
    ),
    path("cash-days/<str:day>/", api.CashDayApi.as_view(), name="api-cash-day"),
    path("cash-days/<str:day>/close/", api.CashDayCloseApi.as_view(), name="api-cash-day-close"),
    path("tiers-payant/", api.TiersPayantApi.as_view(), name="api-tiers-payant"),
    path("accounting/fec/", api.FecApi.as_view(), name="api-fec"),
    path("reports/care-work/", api.CareWorkApi.as_view(), name="api-care-work"),
]
