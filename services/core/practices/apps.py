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
