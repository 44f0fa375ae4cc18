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
