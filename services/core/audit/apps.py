from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "core.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from core import dbsecurity
        from core.audit.append_sql import APPEND_FUNCTION

        dbsecurity.register_append_only("audit_event")
        dbsecurity.register_function(APPEND_FUNCTION)
        dbsecurity.register_append_only("audit_anchor")
        # Node keys: written only by `carnet node_key rotate`, as the owner role.
        dbsecurity.register_read_only("audit_node_key")
        # Any process may append events (even before a practice is known: a failed
        # login); reading is limited to the current practice.
        dbsecurity.register_policies(
            "audit_event",
            [
                "CREATE POLICY audit_read ON {table} FOR SELECT"
                " USING (practice_id = carnet_current_practice())",
                "CREATE POLICY audit_append ON {table} FOR INSERT WITH CHECK (true)",
            ],
        )
