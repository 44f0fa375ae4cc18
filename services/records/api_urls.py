from django.urls import URLPattern, path

from records import api

urlpatterns: list[URLPattern] = [
    path("patients/", api.PatientListApi.as_view(), name="api-patient-list"),
    path("patients/<int:patient_id>/", api.PatientDetailApi.as_view(), name="api-patient-detail"),
    path("patients/<int:patient_id>/chart/", api.ChartApi.as_view(), name="api-chart"),
    path(
        "patients/<int:patient_id>/prescriptions/",
        api.PrescriptionListApi.as_view(),
        name="api-prescriptions",
    ),
    path(
        "patients/<int:patient_id>/prescriptions/<int:prescription_id>/pdf/",
        api.PrescriptionPdfApi.as_view(),
        name="api-prescription-pdf",
    ),
    path(
        "patients/<int:patient_id>/access-report/",
        api.AccessReportApi.as_view(),
        name="api-access-report",
    ),
    path("drugs/", api.DrugSearchApi.as_view(), name="api-drugs"),
    path("cim10/", api.Cim10SearchApi.as_view(), name="api-cim10"),
]

for kind in api.ENTRY_SERIALIZERS:
    list_view, detail_view = api.entry_views(kind)
    urlpatterns += [
        path(f"patients/<int:patient_id>/{kind}/", list_view.as_view(), name=f"api-{kind}"),
        path(
            f"patients/<int:patient_id>/{kind}/<int:entry_id>/",
            detail_view.as_view(),
            name=f"api-{kind}-detail",
        ),
    ]
