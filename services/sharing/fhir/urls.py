"""FHIR R4 REST API routes (read, search, history, $everything), mounted at /fhir/r4/.

FHIR paths have no trailing slash: ``/fhir/r4/Patient/42``, ``/fhir/r4/Condition?...``.
Any other path under /fhir/r4/ answers a FHIR 404 (an OperationOutcome).
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from sharing.fhir import api as fhir_api

urlpatterns: list[URLPattern | URLResolver] = [
    path("metadata", fhir_api.MetadataApi.as_view(), name="fhir-metadata"),
]


def _one_resource(resource_type: str) -> list[URLPattern]:
    """A resource's addresses under ``<Type>/``: its history, vread and $everything."""
    name = resource_type.lower()
    patterns = [
        path(
            "<str:resource_id>",
            fhir_api.ReadApi.as_view(resource_type=resource_type),
            name=f"fhir-{name}-read",
        )
    ]
    if resource_type in fhir_api.HISTORY_TYPES:
        patterns = [
            # Before the read: "_history" is no id.
            path(
                "_history",
                fhir_api.TypeHistoryApi.as_view(resource_type=resource_type),
                name=f"fhir-{name}-history-type",
            ),
            *patterns,
            path(
                "<str:resource_id>/_history",
                fhir_api.HistoryApi.as_view(resource_type=resource_type),
                name=f"fhir-{name}-history",
            ),
            path(
                "<str:resource_id>/_history/<str:version_id>",
                fhir_api.VersionReadApi.as_view(resource_type=resource_type),
                name=f"fhir-{name}-vread",
            ),
        ]
    if resource_type == "Patient":
        patterns.append(
            path(
                "<str:resource_id>/$everything",
                fhir_api.EverythingApi.as_view(resource_type="Patient"),
                name="fhir-patient-everything",
            )
        )
    return patterns


# A type's search, then its other addresses behind one prefix: Django tries the patterns
# in order, and a call of a type listed late passes each type before it in two tries.
for resource_type in fhir_api.RESOURCE_TYPES:
    urlpatterns += [
        path(
            resource_type,
            fhir_api.SearchApi.as_view(resource_type=resource_type),
            name=f"fhir-{resource_type.lower()}-search",
        ),
        path(f"{resource_type}/", include(_one_resource(resource_type))),
    ]

urlpatterns += [
    path("", fhir_api.UnknownApi.as_view(), name="fhir-root"),
    path("<path:path>", fhir_api.UnknownApi.as_view(), name="fhir-unknown"),
]
