from django.apps import AppConfig


class CarnetConfig(AppConfig):
    name = "carnet"
    verbose_name = "Carnet (composition root)"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from carnet import checks  # noqa: F401 - registers the checks
        from core import dbsecurity

        def apply_database_security(sender: AppConfig, **kwargs: object) -> None:
            # Sent once per app; the composition root is the last app, so every table
            # exists when it runs.
            if sender.name == self.name:
                dbsecurity.apply()

        post_migrate.connect(apply_database_security, dispatch_uid="carnet-dbsecurity", weak=False)
