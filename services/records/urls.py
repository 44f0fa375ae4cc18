from django.urls import path

from records import views

app_name = "records"

urlpatterns = [
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/<int:patient_id>/", views.patient_detail, name="patient-detail"),
]
