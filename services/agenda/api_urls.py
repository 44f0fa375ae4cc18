"""The agenda's REST API, under /api/v1/agenda/ (docs/api.md, "Agenda")."""

from django.urls import URLPattern, path

from agenda import api

app_name = "agenda-api"

A = "agenda/"
APPOINTMENT = A + "appointments/<int:appointment_id>/"

urlpatterns: list[URLPattern] = [
    path(A + "types/", api.TypesApi.as_view(), name="types"),
    path(A + "sites/", api.SitesApi.as_view(), name="sites"),
    path(A + "practitioners/", api.PractitionersApi.as_view(), name="practitioners"),
    path(A + "slots/", api.SlotsApi.as_view(), name="slots"),
    path(
        A + "practitioners/<int:practitioner_id>/appointments/",
        api.PractitionerAppointmentsApi.as_view(),
        name="practitioner-appointments",
    ),
    path(A + "practitioners/<int:practitioner_id>/hours/", api.HoursApi.as_view(), name="hours"),
    path(
        A + "patients/<int:patient_id>/appointments/",
        api.PatientAppointmentsApi.as_view(),
        name="patient-appointments",
    ),
    path(A + "patients/<int:patient_id>/series/", api.SeriesApi.as_view(), name="series"),
    path(A + "patients/<int:patient_id>/walk-in/", api.WalkInApi.as_view(), name="walk-in"),
    path(A + "appointments/", api.CallerAppointmentsApi.as_view(), name="caller-appointments"),
    path(APPOINTMENT, api.AppointmentApi.as_view(), name="appointment"),
    path(APPOINTMENT + "move/", api.MoveApi.as_view(), name="move"),
    path(APPOINTMENT + "cancel/", api.CancelApi.as_view(), name="cancel"),
    path(APPOINTMENT + "no-show/", api.NoShowApi.as_view(), name="no-show"),
    path(APPOINTMENT + "check-in/", api.CheckInApi.as_view(), name="check-in"),
    path(APPOINTMENT + "start/", api.StartApi.as_view(), name="start"),
    path(APPOINTMENT + "finish/", api.FinishApi.as_view(), name="finish"),
    path(A + "waiting-room/", api.WaitingRoomApi.as_view(), name="waiting-room"),
    path(A + "absences/", api.AbsencesApi.as_view(), name="absences"),
    path(A + "absences/<int:absence_id>/", api.AbsenceApi.as_view(), name="absence"),
    path(A + "holidays/", api.HolidaysApi.as_view(), name="holidays"),
    path(A + "feeds/", api.FeedsApi.as_view(), name="feeds"),
    path(A + "feeds/<int:feed_id>/", api.FeedApi.as_view(), name="feed"),
]
