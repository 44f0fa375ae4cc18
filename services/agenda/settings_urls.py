"""The agenda's settings pages, under /p/<practice>/agenda/reglages/."""

from django.urls import URLPattern, path

from agenda import settings_views as views

S = "agenda/reglages/"

urlpatterns: list[URLPattern] = [
    path(S, views.settings_index, name="settings"),
    path(S + "sites/", views.site_edit, name="settings-sites"),
    path(S + "sites/<int:site_id>/", views.site_edit, name="settings-site"),
    path(S + "types/", views.type_edit, name="settings-types"),
    path(S + "types/<int:type_id>/", views.type_edit, name="settings-type"),
    path(S + "horaires/<int:practitioner_id>/", views.week_hours, name="settings-hours"),
    path(S + "horaires/<int:practitioner_id>/jour/", views.day_hours, name="settings-day"),
    path(S + "absences/", views.absences, name="settings-absences"),
    path(
        S + "absences/<int:absence_id>/supprimer/",
        views.absence_remove,
        name="settings-absence-remove",
    ),
    path(S + "jours-feries/", views.holidays, name="settings-holidays"),
    path(S + "calendrier/", views.feed, name="feed"),
    path(S + "calendrier/revoquer/", views.feed_revoke, name="feed-revoke"),
]
