from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "core.practices"
    label = "practices"
    verbose_name = "Practices"

    def ready(self) -> None:
        from core import dbsecurity

        # The membership row is the cooperative's view of the practice: the practice's
        # own staff may read it (their subscription), the cooperative admins manage it.
        dbsecurity.register_exempt(
            "practices_cooperativemembership",
            "cooperative administration reads all members; holds no patient data",
        )
        # Applications come before any practice exists; the cooperative's administrators
        # read them all. Names and addresses of practitioners, no patient data.
        dbsecurity.register_exempt(
            "practices_membershipapplication",
            "applications to join precede any practice; holds no patient data",
        )

        from django.utils.translation import gettext_lazy as _

        from core import navigation

        navigation.register(
            navigation.Link(
                navigation.COOPERATIVE,
                "cooperative:applications",
                _("Applications to join"),
                5,
            ),
        )
