from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Records"

    def ready(self) -> None:
        from core import dbsecurity, idempotency
        from records.selectors.patients import require_read

        idempotency.register_patient_check(require_read)

        from core.practices.services import leaving
        from records.leaving import forget_document_files

        leaving.practice_purging.connect(forget_document_files, dispatch_uid="records-files")

        # Reference data is loaded by the owner role (`carnet load_reference`).
        dbsecurity.register_read_only("records_drug")
        dbsecurity.register_read_only("records_cim10code")
        for table in (
            # The words of the drug names and CIM-10 labels, kept by triggers (0013).
            "records_referenceword",
            "records_referencekey",
            "records_drugword",
            "records_cim10word",
            "records_substance",
            "records_drugcomponent",
            "records_atcclass",
            "records_interaction",
            "records_interactionclassmember",
        ):
            dbsecurity.register_read_only(table)

        # The record's links in the kernel's menu and on the practice home.
        from django.utils.translation import gettext_lazy as _

        from core import navigation

        navigation.register(
            navigation.Link(navigation.MENU, "records:patient-list", _("Patients"), 10, "p"),
            navigation.Link(navigation.SEARCH, "records:patient-list", _("Find a patient"), 10),
            navigation.Link(
                navigation.PRACTICE,
                "records:break-glass-review",
                _("Emergency accesses to review"),
                30,
            ),
        )
