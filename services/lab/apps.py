from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = "Laboratory results"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The worker's round receives the files of each practice's drop folder.
        from core import periodic
        from lab.inbox import scan

        periodic.register("lab-inbox", scan)

        # The results in the kernel's menu.
        from django.utils.translation import gettext_lazy as _

        from core import navigation

        navigation.register(
            navigation.Link(navigation.MENU, "lab:to-read", _("Results"), 30),
        )
