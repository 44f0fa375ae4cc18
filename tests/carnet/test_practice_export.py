"""A member leaves with all its data: a practice exported from one database and imported
on a fresh one has identical records and invoices, and its audit trail verifies."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from billing.pricing import Coverage
from billing.services import (
    LineInput,
    day_close,
    invoice_draft,
    invoice_issue,
    issuer_for,
    payment_record,
)
from core.access import choices
from records import services
from records.access import access_for
from records.models import Problem
from tests.fixtures import World
from tests.live_server import CARNET, own_database


def fill(world: World) -> None:
    alice = world.actor(world.alice)
    paul = access_for(world.paul)
    services.consultation_record(
        actor=alice, access=paul, reason="Suivi HTA", subjective="Va bien", vitals={"systolic": 132}
    )
    problem = services.entry_create(
        actor=alice, access=paul, model=Problem, label="HTA", code="I10"
    )
    services.entry_update(
        actor=alice,
        access=paul,
        entry=problem,
        expected_version=1,
        reason="précision",
        label="HTA essentielle",
    )
    services.prescription_create(
        actor=alice,
        access=paul,
        items=[services.ItemInput(posology="1 cp/j", duration_days=90, drug_label="Ramipril 5 mg")],
    )
    choices.consent_give(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        grantee_node="paris",
        grantee_practice="cabinet-x",
        categories=["problems"],
        source="form 1",
        valid_from=timezone.localdate(),
    )
    draft = invoice_draft(
        actor=alice,
        issuer=issuer_for(world.alice),
        patient_id=world.paul.pk,
        birth_date=world.paul.birth_date,
        service_date=timezone.localdate(),
        lines=[LineInput("G")],
        coverage=Coverage(has_complementary=True),
    )
    invoice = invoice_issue(actor=alice, invoice=draft)
    sam = world.actor(world.sam)
    payment_record(
        actor=sam,
        invoice=invoice,
        method="cheque",
        amount=invoice.due_at_desk,
        idempotency_key="k1",
        cheque_number="123",
    )
    day_close(actor=sam, day=timezone.localdate())


def rows(conninfo: str, sql: str) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET ROLE carnet_owner")
        return conn.execute(sql).fetchall()


def test_a_practice_moves_to_a_fresh_database_intact(billing_world: World, tmp_path: Path) -> None:
    world = billing_world
    fill(world)
    export = tmp_path / "export"
    call_command("export_practice", world.practice_a.slug, "--output", str(export))
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["rows"]["records"] > 5 and manifest["rows"]["billing"] > 5
    moved = import_on_a_fresh_database(export, tmp_path)
    assert_moved_intact(moved, world.practice_a.pk)


def import_on_a_fresh_database(export: Path, tmp_path: Path) -> str:
    """Migrate a new database, import the export with `carnet import_practice`, check
    its audit trail with `carnet audit verify`; the new database's conninfo."""
    env = own_database("moved", tmp_path / "var")
    for command in (["load_fees"], ["import_practice", str(export)]):
        done = subprocess.run([CARNET, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    verify = subprocess.run([CARNET, "audit", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    assert "intact" in verify.stdout
    db = settings.DATABASES["default"]
    name = env["CARNET_TEST_DATABASE"]
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={name}"


def assert_moved_intact(moved: str, practice_id: int) -> None:
    """The practice's records, invoices, payments, days and consents are the same rows on
    the new database as on this one."""
    queries = {
        "patients": "SELECT id, birth_name, given_names, nir FROM records_patient ORDER BY id",
        "encounters": "SELECT id, reason, subjective, documentation_seconds"
        " FROM records_encounter ORDER BY id",
        "problems": "SELECT id, label, version FROM records_problem ORDER BY id",
        "revisions": "SELECT entry_id, version, reason FROM records_entryrevision ORDER BY id",
        # The cooperative's dues invoices stay with the cooperative.
        "invoices": "SELECT reference, status, total, due_at_desk FROM billing_invoice"
        " WHERE kind <> 'dues' ORDER BY id",
        "payments": "SELECT amount, method, cheque_number FROM billing_payment ORDER BY id",
        "days": "SELECT day, closed_at IS NOT NULL FROM billing_cashday ORDER BY id",
        "consents": "SELECT patient_id, categories::text FROM access_sharingconsent ORDER BY id",
    }
    from django.db import connection

    for label, sql in queries.items():
        with connection.cursor() as cursor:
            where = "AND" if " WHERE " in sql else "WHERE"
            cursor.execute(
                sql.replace("ORDER BY", f"{where} practice_id = %s ORDER BY"), [practice_id]
            )
            original = [tuple(row) for row in cursor.fetchall()]
        assert original, label
        assert rows(moved, sql) == original, label
    # The imported invoices are still frozen on the new node.
    with psycopg.connect(moved) as conn, conn.transaction():
        conn.execute("SET ROLE carnet_owner")
        try:
            conn.execute("UPDATE billing_invoice SET total = 1")
            raise AssertionError("an issued invoice was changed")
        except psycopg.errors.IntegrityConstraintViolation:
            pass
