from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from core import dbsecurity

        # Fee schedules are reference data loaded by the owner role (`carnet load_fees`).
        dbsecurity.register_read_only("billing_act")
        dbsecurity.register_read_only("billing_combinationrule")
