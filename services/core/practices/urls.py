from django.urls import path

from core.accounts import views as account_views
from core.practices import views

app_name = "practices"

urlpatterns = [
    path("", views.practice_home, name="home"),
    path("jetons/", account_views.api_tokens_view, name="api-tokens"),
    path(
        "jetons/<str:key_id>/revoquer/",
        account_views.api_token_revoke_view,
        name="api-token-revoke",
    ),
]
