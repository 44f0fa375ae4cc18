"""The gateway connects with a role that reads no clinical table: only the directory,
the practices' names, and the inbox of encrypted messages (plus appending to the audit)."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings

CLINICAL = [
    "records_patient",
    "records_encounter",
    "records_problem",
    "records_allergy",
    "records_prescription",
    "records_observation",
    "records_document",
    "billing_invoice",
    "sharing_outboxmessage",
    "access_sharingconsent",
    "accounts_person",
]


def gateway() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        f"host={db['HOST']} port={db['PORT']} user=carnet_gateway dbname={db['NAME']}"
    )


@pytest.mark.parametrize("table", CLINICAL)
def test_the_gateway_role_gets_permission_denied_on_clinical_tables(db: None, table: str) -> None:
    with (
        gateway() as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"),
    ):
        conn.execute(f"SELECT * FROM {table} LIMIT 1")


def test_the_gateway_role_reaches_what_it_needs(db: None) -> None:
    with gateway() as conn:
        conn.execute("SELECT count(*) FROM sharing_inboxmessage")
        conn.execute("SELECT count(*) FROM sharing_directoryentry")
        conn.execute("SELECT slug FROM practices_practice")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE sharing_inboxmessage SET status = 'accepted'")
