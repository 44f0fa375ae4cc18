from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = "Sharing"

    def ready(self) -> None:
        from core import dbsecurity

        # The directory is node-level (no practice): every practice looks recipients up.
        dbsecurity.register_exempt("sharing_directoryentry", "public keys of the cooperative")
        # The gateway: read the directory and this node's practices, append to the inbox
        # and to the audit trail. No clinical table, no outbox.
        dbsecurity.register_gateway_access("sharing_directoryentry", "SELECT")
        dbsecurity.register_gateway_access("practices_practice", "SELECT")
        dbsecurity.register_gateway_access("sharing_inboxmessage", "SELECT, INSERT")
        dbsecurity.register_gateway_access("audit_event", "INSERT")
        dbsecurity.register_gateway_access("audit_chain", "SELECT, INSERT, UPDATE")

        # Sharing's links in the kernel's menu and on the record.
        from django.utils.translation import gettext_lazy as _

        from core import navigation
        from core.access.policy import PracticeAction

        navigation.register(
            navigation.Link(
                navigation.MENU,
                "sharing:inbox",
                _("Shares received"),
                40,
                when=PracticeAction.VIEW_EXCHANGE,
            ),
            navigation.Link(navigation.PATIENT, "sharing:consents", _("Sharing consents"), 10),
            navigation.Link(navigation.PATIENT, "sharing:patient-shares", _("Sent shares"), 20),
            navigation.Link(
                navigation.COOPERATIVE,
                "cooperative-directory:directory",
                _("The cooperative's directory"),
                10,
            ),
        )
