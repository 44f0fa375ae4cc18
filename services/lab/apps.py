from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = "Laboratory results"
    default_auto_field = "django.db.models.BigAutoField"
