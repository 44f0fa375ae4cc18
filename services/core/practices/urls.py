from django.urls import path

from core.accounts import views as account_views
from core.practices import views

app_name = "practices"

urlpatterns = [
    path("", views.practice_home, name="home"),
    path("equipe-de-soins/", views.care_team_setting, name="care-team"),
    path("equipe-de-soins/affiche.pdf", views.care_team_notice_pdf, name="care-team-notice"),
    path("jetons/", account_views.api_tokens_view, name="api-tokens"),
    path(
        "jetons/<str:key_id>/revoquer/",
        account_views.api_token_revoke_view,
        name="api-token-revoke",
    ),
]
