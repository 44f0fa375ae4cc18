from django.urls import URLPattern, path

from core.practices import api

urlpatterns: list[URLPattern] = [
    path(
        "cooperative/members/",
        api.CooperativeMembersApi.as_view(),
        name="api-cooperative-members",
    ),
]
