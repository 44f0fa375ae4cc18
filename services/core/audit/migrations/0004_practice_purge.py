"""A practice that left the cooperative is deleted from the node, its audit chain with
it (its export took the chain away, and verifies on its new node). Only the tables'
owner role, inside ``core.practices.services.leaving.practice_purge`` which names the
practice for its transaction, may delete that practice's chain; every other DELETE,
UPDATE and TRUNCATE is still refused for every role, and the application role still
has no DELETE privilege at all.

``carnet_purging(practice)``: is this transaction purging this practice, as the owner?
The billing triggers that freeze issued invoices and closed days ask it too."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION carnet_purging(practice bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT practice IS NOT NULL
       AND current_setting('carnet.purging_practice', true) = practice::text
       AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class
                           WHERE oid = 'audit_event'::regclass)
$$;

CREATE OR REPLACE FUNCTION carnet_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_event' AND carnet_purging(OLD.chain) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

REVERSE = """
CREATE OR REPLACE FUNCTION carnet_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP FUNCTION IF EXISTS carnet_purging(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_node_key")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
