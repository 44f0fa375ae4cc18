from django.urls import path

from core.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.second_factor_view, name="second-factor"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("profil/", views.profile_view, name="profile"),
    path("invitation/<str:secret>/", views.invitation_accept, name="invitation"),
]
