"""The desk's pages of the agenda, under /p/<practice>/: the agenda, booking, one
appointment, the waiting room, and the paper (the appointment card, the day and the
week of a practitioner)."""

from django.urls import URLPattern, path

from agenda import desk_views as views

urlpatterns: list[URLPattern] = [
    path("agenda/", views.agenda, name="agenda"),
    path("agenda/prendre-rdv/", views.book, name="book"),
    path(
        "agenda/<int:practitioner_id>/<str:day>/journee.pdf",
        views.day_sheet,
        name="day-sheet",
    ),
    path(
        "agenda/<int:practitioner_id>/<str:day>/semaine.pdf",
        views.week_sheet,
        name="week-sheet",
    ),
    path("rdv/<int:appointment_id>/", views.appointment, name="appointment"),
    path("rdv/<int:appointment_id>/deplacer/", views.appointment_move, name="appointment-move"),
    path("rdv/<int:appointment_id>/annuler/", views.appointment_cancel, name="appointment-cancel"),
    path("rdv/<int:appointment_id>/absent/", views.appointment_no_show, name="appointment-no-show"),
    path(
        "rdv/<int:appointment_id>/arrivee/", views.appointment_check_in, name="appointment-check-in"
    ),
    path("rdv/<int:appointment_id>/carton.pdf", views.appointment_card, name="appointment-card"),
    path("salle-d-attente/", views.waiting_room, name="waiting-room"),
    path("salle-d-attente/sans-rdv/", views.walk_in, name="walk-in"),
]
