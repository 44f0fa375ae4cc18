from django.urls import path

from records import api

urlpatterns = [
    path("patients/", api.PatientListApi.as_view(), name="api-patient-list"),
    path("patients/<int:patient_id>/", api.PatientDetailApi.as_view(), name="api-patient-detail"),
]
