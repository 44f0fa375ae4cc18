from django.urls import path

from billing import membership_views

app_name = "cooperative-dues"

urlpatterns = [
    path("cotisations/", membership_views.members_dues, name="members-dues"),
    path("cotisations/emettre/", membership_views.dues_issue_page, name="dues-issue"),
    path("cotisations/fec/", membership_views.cooperative_fec, name="fec"),
    path("adherents/<int:practice_id>/", membership_views.member_dues, name="member-dues"),
    path(
        "adherents/<int:practice_id>/paiement/",
        membership_views.member_payment,
        name="member-payment",
    ),
    path(
        "adherents/<int:practice_id>/parts/",
        membership_views.member_shares,
        name="member-shares",
    ),
]
