from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from core import dbsecurity

        # Fee schedules are reference data loaded by the owner role (`carnet load_fees`).
        dbsecurity.register_read_only("billing_act")
        dbsecurity.register_read_only("billing_combinationrule")

        # A practice that leaves is deleted, but for the cooperative's dues invoices.
        from billing.leaving import KEPT, forget_issuers
        from core.practices.services import leaving

        for table, predicate in KEPT.items():
            leaving.register_kept(table, predicate, "the cooperative's dues invoices")
        leaving.practice_purging.connect(forget_issuers, dispatch_uid="billing-issuers")

        # Billing's links in the kernel's menu, on the practice home and on the record.
        from django.utils.translation import gettext_lazy as _

        from core import navigation
        from core.access.policy import PracticeAction

        navigation.register(
            navigation.Link(navigation.MENU, "billing:cash-day", _("Cash journal"), 20, "j"),
            navigation.Link(navigation.PRACTICE, "billing:cash-day", _("Cash journal"), 10),
            navigation.Link(
                navigation.PRACTICE, "billing:care-work", _("Data entry is care work"), 20
            ),
            navigation.Link(
                navigation.PRACTICE,
                "billing:dues",
                _("Invoices from the cooperative"),
                40,
                when=PracticeAction.MANAGE_STAFF,
            ),
            navigation.Link(navigation.PRACTICE, "billing:tariffs", _("Fee schedule"), 30),
            navigation.Link(
                navigation.PRACTICE,
                "billing:membership",
                _("Membership of the cooperative"),
                45,
                when=PracticeAction.VIEW_MEMBERSHIP,
            ),
            navigation.Link(
                navigation.COOPERATIVE,
                "cooperative-dues:members-dues",
                _("Members' dues and payments"),
                20,
            ),
            navigation.Link(navigation.PATIENT, "billing:patient", _("Billing"), 30, "f"),
        )
