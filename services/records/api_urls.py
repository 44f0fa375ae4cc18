from django.urls import URLPattern, path

from records import api, api_care_time, api_more

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
        "patients/<int:patient_id>/prescriptions/check/",
        api.PrescriptionCheckApi.as_view(),
        name="api-prescription-check",
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
    path(
        "patients/<int:patient_id>/documents/",
        api_more.DocumentListApi.as_view(),
        name="api-documents",
    ),
    path(
        "patients/<int:patient_id>/documents/<int:document_id>/file/",
        api_more.DocumentFileApi.as_view(),
        name="api-document-file",
    ),
    path("patients/<int:patient_id>/letters/", api_more.LetterApi.as_view(), name="api-letters"),
    path("patients/<int:patient_id>/drafts/", api_care_time.DraftApi.as_view(), name="api-drafts"),
    path(
        "patients/<int:patient_id>/exclusions/",
        api_more.ExclusionListApi.as_view(),
        name="api-exclusions",
    ),
    path(
        "patients/<int:patient_id>/exclusions/<int:restriction_id>/",
        api_more.ExclusionDetailApi.as_view(),
        name="api-exclusion",
    ),
    path(
        "patients/<int:patient_id>/label-grants/",
        api_more.LabelGrantApi.as_view(),
        name="api-label-grants",
    ),
    path(
        "patients/<int:patient_id>/label-grants/<int:grant_id>/",
        api_more.LabelGrantDetailApi.as_view(),
        name="api-label-grant",
    ),
    path(
        "patients/<int:patient_id>/break-glass/",
        api_more.BreakGlassApi.as_view(),
        name="api-break-glass",
    ),
    path("drugs/", api.DrugSearchApi.as_view(), name="api-drugs"),
    path("substances/", api.SubstanceSearchApi.as_view(), name="api-substances"),
    path("atc-classes/", api.AtcClassSearchApi.as_view(), name="api-atc-classes"),
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
