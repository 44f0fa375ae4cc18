"""REST API for patients (identity)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import CarnetAPIView, PracticeAPIMixin
from records import selectors


class PatientOutput(serializers.Serializer):
    id = serializers.IntegerField()
    birth_name = serializers.CharField()
    used_name = serializers.CharField()
    given_names = serializers.CharField()
    sex = serializers.CharField()
    birth_date = serializers.DateField()
    nir = serializers.CharField()
    city = serializers.CharField()


class PatientListApi(PracticeAPIMixin, CarnetAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="name fragments, birth date or NIR")],
        responses=PatientOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        query = str(request.query_params.get("q", ""))[:200]
        patients = selectors.patient_search(actor=request.actor, query=query)  # type: ignore[attr-defined]
        return Response(PatientOutput(patients, many=True).data)


class PatientDetailApi(PracticeAPIMixin, CarnetAPIView):
    @extend_schema(responses=PatientOutput)
    def get(self, request: Request, patient_id: int, **kwargs: Any) -> Response:
        patient = selectors.patient_get(actor=request.actor, patient_id=patient_id)  # type: ignore[attr-defined]
        return Response(PatientOutput(patient).data)
