"""FHIR R4 REST API routes (read, search, history, $everything), mounted at /fhir/r4/.

FHIR paths have no trailing slash: ``/fhir/r4/Patient/42``, ``/fhir/r4/Condition?...``.
Any other path under /fhir/r4/ answers a FHIR 404 (an OperationOutcome).
"""

from __future__ import annotations

from django.urls import URLPattern, path

from sharing.fhir import api as fhir_api

urlpatterns: list[URLPattern] = [
    path("metadata", fhir_api.MetadataApi.as_view(), name="fhir-metadata"),
]

urlpatterns += [
    path(
        "Patient/<str:resource_id>/$everything",
        fhir_api.EverythingApi.as_view(resource_type="Patient"),
        name="fhir-patient-everything",
    ),
]

for resource_type in fhir_api.HISTORY_TYPES:
    urlpatterns += [
        # Before <Type>/<id>: "_history" is no id.
        path(
            f"{resource_type}/_history",
            fhir_api.TypeHistoryApi.as_view(resource_type=resource_type),
            name=f"fhir-{resource_type.lower()}-history-type",
        ),
        path(
            f"{resource_type}/<str:resource_id>/_history",
            fhir_api.HistoryApi.as_view(resource_type=resource_type),
            name=f"fhir-{resource_type.lower()}-history",
        ),
        path(
            f"{resource_type}/<str:resource_id>/_history/<str:version_id>",
            fhir_api.VersionReadApi.as_view(resource_type=resource_type),
            name=f"fhir-{resource_type.lower()}-vread",
        ),
    ]

for resource_type in fhir_api.RESOURCE_TYPES:
    urlpatterns += [
        path(
            resource_type,
            fhir_api.SearchApi.as_view(resource_type=resource_type),
            name=f"fhir-{resource_type.lower()}-search",
        ),
        path(
            f"{resource_type}/<str:resource_id>",
            fhir_api.ReadApi.as_view(resource_type=resource_type),
            name=f"fhir-{resource_type.lower()}-read",
        ),
    ]

urlpatterns += [
    path("", fhir_api.UnknownApi.as_view(), name="fhir-root"),
    path("<path:path>", fhir_api.UnknownApi.as_view(), name="fhir-unknown"),
]
