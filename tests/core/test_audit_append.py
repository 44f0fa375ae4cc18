"""Events linked in the database (``audit_append``, one round trip) verify with
``carnet audit verify`` like any other, and an edit of one is caught."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import tenancy
from core.audit.chain import event_hash
from core.audit.models import AuditChain, AuditEvent
from core.audit.services import append, buffered, record_event
from core.audit.verify import verify_chains
from tests.core.test_audit import as_database_superuser, execute, first_problem
from tests.fixtures import World

ODD_TEXT = 'Dr "O\'Brien" <b>é</b> \u2028 \\ \t\x01 漢字 🩺'


def record_a_mixed_request(world: World) -> list[AuditEvent]:
    """One request's events on two chains (the practice's and the node's), with text a
    JSON encoder must escape, appended together as at the end of a request."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    with buffered() as events:
        record_event(
            "patient.read",
            actor=world.alice,
            patient_id=world.paul.pk,
            reason=ODD_TEXT,
            details={"view": "chart", "seq": 0, "prev_hash": "", "n": [1, 2.5, None, True]},
        )
        record_event("api.auth_failed", node_chain=True, actor_label=ODD_TEXT[:16])
        record_event("patient.read", actor=world.alice, patient_id=world.paul.pk, target="t2")
    with CaptureQueriesContext(connection) as queries:
        append(events)
    assert len(queries.captured_queries) == 1, [q["sql"][:80] for q in queries]
    with as_database_superuser():
        return list(AuditEvent.objects.order_by("chain", "seq"))


def test_events_linked_in_the_database_have_the_hash_of_the_canonical_form(
    world: World,
) -> None:
    rows = record_a_mixed_request(world)
    assert len(rows) >= 3
    for row in rows:
        fields = {f.column: getattr(row, f.attname) for f in AuditEvent._meta.concrete_fields}
        assert row.hash == event_hash(fields), row.action
    practice_rows = [row for row in rows if row.chain == world.practice_a.pk]
    assert [row.seq for row in practice_rows] == list(range(1, len(practice_rows) + 1))
    for before, after in itertools.pairwise(practice_rows):
        assert after.prev_hash == before.hash
    read = next(row for row in practice_rows if row.reason == ODD_TEXT)
    assert read.details["n"] == [1, 2.5, None, True]
    assert read.occurred_at.tzinfo is not None
    with as_database_superuser():
        heads = {head.chain: (head.seq, head.hash) for head in AuditChain.objects.all()}
    assert heads[world.practice_a.pk] == (practice_rows[-1].seq, practice_rows[-1].hash)


def test_the_command_verifies_events_linked_in_the_database(world: World, capsys) -> None:
    record_a_mixed_request(world)
    with as_database_superuser():
        call_command("audit", "verify")
    assert "intact" in capsys.readouterr().out


def test_an_edit_of_an_event_linked_in_the_database_is_caught(world: World) -> None:
    rows = record_a_mixed_request(world)
    target = next(row for row in rows if row.target == "t2")
    with as_database_superuser():
        execute("UPDATE audit_event SET target = 't3' WHERE id = %s", [target.pk])
    problem = first_problem()
    assert f"event #{target.pk}" in problem
    assert "edited" in problem
    with as_database_superuser(), pytest.raises(CommandError, match=f"event #{target.pk}"):
        call_command("audit", "verify")


def test_a_time_with_no_microseconds_is_hashed_as_stored(world: World) -> None:
    """An event at a whole second (its ISO form has no fraction): the stored time and
    the hashed one agree."""
    whole_second = datetime(2026, 12, 5, 9, 0, 0, tzinfo=UTC)
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    with buffered() as events:
        record_event("patient.read", actor=world.alice, patient_id=world.paul.pk)
    events[0].fields["occurred_at"] = whole_second
    append(events)
    with as_database_superuser():
        assert AuditEvent.objects.filter(occurred_at=whole_second).count() == 1
        report = verify_chains()
    assert report.ok, report.problems
