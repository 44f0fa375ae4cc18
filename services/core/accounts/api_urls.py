from django.urls import URLPattern, path

from core.accounts import api

urlpatterns: list[URLPattern] = [
    path("staff/", api.StaffListApi.as_view(), name="api-staff"),
    path("staff/<int:person_id>/", api.StaffMemberApi.as_view(), name="api-staff-member"),
    path("staff/<int:person_id>/roles/", api.StaffRolesApi.as_view(), name="api-staff-roles"),
    path(
        "staff/<int:person_id>/deactivate/",
        api.StaffDeactivateApi.as_view(),
        name="api-staff-deactivate",
    ),
    path(
        "staff/<int:person_id>/reactivate/",
        api.StaffReactivateApi.as_view(),
        name="api-staff-reactivate",
    ),
    path(
        "staff/<int:person_id>/second-factor-reset/",
        api.StaffSecondFactorResetApi.as_view(),
        name="api-staff-second-factor-reset",
    ),
    path("staff/<int:person_id>/unlock/", api.StaffUnlockApi.as_view(), name="api-staff-unlock"),
    path(
        "staff/<int:person_id>/invitation/",
        api.StaffReinviteApi.as_view(),
        name="api-staff-reinvite",
    ),
]
