"""The audit trail: append-only for the application, and any tampering is detected."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from core import tenancy
from core.audit.models import AuditEvent
from core.audit.services import record_event
from core.audit.verify import verify_chains
from tests.fixtures import World


@pytest.fixture
def trail(world: World) -> list[AuditEvent]:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    for index in range(6):
        record_event(
            "patient.read", actor=world.alice, patient_id=world.paul.pk, details={"n": index}
        )
    return list(AuditEvent.objects.filter(practice_id=world.practice_a.pk).order_by("seq"))


@contextmanager
def as_database_superuser() -> Iterator[None]:
    """An attacker with full database access: bypasses grants, RLS and triggers."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
            cursor.execute("SET ROLE carnet_app")


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def first_problem() -> str:
    with as_database_superuser():
        report = verify_chains()
    assert not report.ok
    return str(report.problems[0])


def test_an_untouched_trail_verifies(trail: list[AuditEvent]) -> None:
    with as_database_superuser():
        report = verify_chains()
    assert report.ok, report.problems
    assert report.events_checked >= 6


def test_the_application_role_cannot_update_audit_rows(trail: list[AuditEvent]) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        execute("UPDATE audit_event SET reason = 'x' WHERE id = %s", [trail[0].pk])


def test_the_application_role_cannot_delete_audit_rows(trail: list[AuditEvent]) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        execute("DELETE FROM audit_event WHERE id = %s", [trail[0].pk])


def test_the_application_role_cannot_truncate_the_trail(trail: list[AuditEvent]) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        execute("TRUNCATE audit_event")


def test_even_the_owner_role_cannot_update_or_delete_audit_rows(trail: list[AuditEvent]) -> None:
    execute("SET ROLE carnet_owner")
    try:
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            execute("DELETE FROM audit_event WHERE id = %s", [trail[0].pk])
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            execute("UPDATE audit_event SET reason = '' WHERE id = %s", [trail[0].pk])
    finally:
        execute("SET ROLE carnet_app")


def test_verify_detects_an_edited_row(trail: list[AuditEvent]) -> None:
    with as_database_superuser():
        execute("UPDATE audit_event SET actor_label = 'mallory' WHERE id = %s", [trail[2].pk])
    problem = first_problem()
    assert f"event #{trail[2].pk}" in problem
    assert "edited" in problem


def test_verify_detects_edited_details_that_other_events_share(world: World) -> None:
    """Verification parses each distinct details text once: an event whose details were
    changed to another event's details is still caught."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    for n in range(6):
        details = {"view": "chart", "hidden_entries": 0} if n != 3 else {"view": "letter"}
        record_event("patient.read", actor=world.alice, details=details, target=f"t{n}")
    with as_database_superuser():
        execute(
            'UPDATE audit_event SET details = \'{"view": "chart", "hidden_entries": 0}\''
            " WHERE target = 't3'"
        )
    problem = first_problem()
    assert "edited" in problem


def test_verify_detects_a_deleted_row(trail: list[AuditEvent]) -> None:
    with as_database_superuser():
        execute("DELETE FROM audit_event WHERE id = %s", [trail[2].pk])
    problem = first_problem()
    assert f"event #{trail[3].pk}" in problem
    assert "missing" in problem


def test_verify_detects_a_deleted_last_row(trail: list[AuditEvent]) -> None:
    with as_database_superuser():
        execute("DELETE FROM audit_event WHERE id = %s", [trail[-1].pk])
    assert "deleted" in first_problem()


def test_verify_detects_an_inserted_row(trail: list[AuditEvent]) -> None:
    victim = trail[3]
    with as_database_superuser():
        execute("ALTER TABLE audit_event DROP CONSTRAINT audit_event_chain_seq")
        execute(
            "INSERT INTO audit_event (chain, seq, occurred_at, practice_id, actor_id, actor_label,"
            " action, outcome, patient_id, category, purpose, reason, target, ip, user_agent,"
            " request_id, channel, details, prev_hash, hash)"
            " SELECT chain, seq, occurred_at, practice_id, actor_id, 'nobody', action, outcome,"
            " patient_id, category, purpose, reason, target, ip, user_agent, request_id, channel,"
            " details, prev_hash, hash FROM audit_event WHERE id = %s",
            [victim.pk],
        )
    problem = first_problem()
    assert "inserted" in problem


def test_verify_detects_an_inserted_row_with_renumbering(trail: list[AuditEvent]) -> None:
    """The attacker shifts the later events to make room, keeping sequence numbers
    contiguous: the links no longer match."""
    with as_database_superuser():
        for shift in (1000, -999):  # two steps: the (chain, seq) pair is unique
            execute(
                "UPDATE audit_event SET seq = seq + %s WHERE chain = %s AND seq >= 3",
                [shift, trail[0].chain],
            )
        execute(
            "INSERT INTO audit_event (chain, seq, occurred_at, practice_id, actor_id, actor_label,"
            " action, outcome, patient_id, category, purpose, reason, target, ip, user_agent,"
            " request_id, channel, details, prev_hash, hash)"
            " SELECT chain, 3, occurred_at, practice_id, actor_id, 'forged', action, outcome,"
            " patient_id, category, purpose, reason, target, ip, user_agent, request_id, channel,"
            " details, prev_hash, hash FROM audit_event WHERE id = %s",
            [trail[1].pk],
        )
    assert first_problem()


def test_verify_detects_two_swapped_rows(trail: list[AuditEvent]) -> None:
    first, second = trail[1], trail[2]
    with as_database_superuser():
        execute("UPDATE audit_event SET seq = -1 WHERE id = %s", [first.pk])
        execute("UPDATE audit_event SET seq = %s WHERE id = %s", [first.seq, second.pk])
        execute("UPDATE audit_event SET seq = %s WHERE id = %s", [second.seq, first.pk])
    problem = first_problem()
    assert f"event #{second.pk}" in problem
    assert "reordered" in problem


def test_verify_detects_swapped_contents(trail: list[AuditEvent]) -> None:
    first, second = trail[1], trail[2]
    with as_database_superuser():
        execute(
            "UPDATE audit_event a SET details = b.details FROM audit_event b"
            " WHERE (a.id, b.id) IN ((%s, %s), (%s, %s))",
            [first.pk, second.pk, second.pk, first.pk],
        )
    problem = first_problem()
    assert f"event #{first.pk}" in problem


def test_the_command_exits_zero_on_an_intact_trail(trail: list[AuditEvent], capsys) -> None:
    with as_database_superuser():
        call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out


def test_the_command_fails_naming_the_first_bad_event(trail: list[AuditEvent]) -> None:
    with as_database_superuser():
        execute("UPDATE audit_event SET reason = 'rewritten' WHERE id = %s", [trail[4].pk])
        with pytest.raises(CommandError, match=f"event #{trail[4].pk}"):
            call_command("audit", "verify")


def test_an_anchor_is_signed_and_verified(trail: list[AuditEvent]) -> None:
    call_command("audit", "anchor")
    with as_database_superuser():
        report = verify_chains()
    assert report.ok, report.problems
    assert report.anchors_checked == 1


def test_an_anchor_detects_a_rewritten_tail(trail: list[AuditEvent]) -> None:
    """Delete the last event and fix the chain head: only the signed anchor knows."""
    call_command("audit", "anchor")
    last = trail[-1]
    with as_database_superuser():
        execute("DELETE FROM audit_event WHERE id = %s", [last.pk])
        execute(
            "UPDATE audit_chain SET seq = seq - 1, hash = %s WHERE chain = %s",
            [last.prev_hash, last.chain],
        )
    assert "anchor" in first_problem()


def test_a_forged_anchor_signature_is_detected(trail: list[AuditEvent]) -> None:
    call_command("audit", "anchor")
    with as_database_superuser():
        execute(
            "UPDATE audit_anchor SET signed_text = replace(signed_text, '\"seq\": 6', '\"seq\": 5')"
        )
    assert "signature" in first_problem()


def test_anchors_stay_signed_by_the_node_key_when_practices_have_keys(
    trail: list[AuditEvent],
) -> None:
    """The node keyring also holds practice keys (sharing): the node key is found by its
    own address, not by being the first secret key."""
    from core import openpgp
    from sharing import keys

    keys.ensure_practice_key("test-node", "cabinet-a", "Cabinet A")
    anchor_key = openpgp.node_keyring().ensure_node_key()
    call_command("audit", "anchor")
    with as_database_superuser():
        report = verify_chains()
    assert report.ok, report.problems
    assert keys.practice_fingerprint("test-node", "cabinet-a") != anchor_key
