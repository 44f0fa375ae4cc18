"""`carnet audit verify` on a large trail splits the chains over the cores: child
processes, each with its own connection and whole chains. The same guarantees must hold
there: every event counted once, an edit and a deleted last event found, the exit code
an operator's monitoring reads.

The command runs as an operator runs it, on a database of its own with committed events
(a child process only sees committed rows); CARNET_AUDIT_PARALLEL_FROM lowers the
threshold (50,000 events) so a small trail is split too."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.conftest import superuser_conninfo
from tests.live_server import CARNET, own_database

EVENTS_PER_CHAIN = {1: 40, 2: 25, 3: 10}

RECORD = f"""
from core.audit.services import record_event
for chain, count in {EVENTS_PER_CHAIN!r}.items():
    for n in range(count):
        record_event("test.event", practice_id=chain, details={{"n": n, "chain": chain}})
"""


@pytest.fixture
def trail(django_db_setup: None, tmp_path: Path) -> tuple[dict[str, str], str]:
    env = own_database("auditsplit", tmp_path)
    subprocess.run([CARNET, "shell", "-c", RECORD], env=env, check=True, capture_output=True)
    return env, env["CARNET_TEST_DATABASE"]  # dropped with the run's other databases (drop_first)


def verify(env: dict[str, str], parallel_from: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CARNET, "audit", "verify", "--all"],
        env={**env, "CARNET_AUDIT_PARALLEL_FROM": str(parallel_from)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_split_verify_counts_what_one_process_counts_and_finds_tampering(
    trail: tuple[dict[str, str], str],
) -> None:
    env, database = trail
    total = sum(EVENTS_PER_CHAIN.values())
    alone = verify(env, parallel_from=1_000_000)
    split = verify(env, parallel_from=1)
    assert alone.returncode == 0 and split.returncode == 0, (alone.stderr, split.stderr)
    assert f"{total} events in 3 chains" in alone.stdout and "processes" not in alone.stdout
    assert f"{total} events in 3 chains" in split.stdout
    assert re.search(r"by [2-9] processes", split.stdout), split.stdout

    # Someone with the database superuser's rights edits an event of chain 2 and
    # deletes the last event of chain 3.
    with psycopg.connect(superuser_conninfo(database), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        edited = conn.execute(
            "UPDATE audit_event SET actor_label = 'mallory' WHERE chain = 2 AND seq = 7"
            " RETURNING id"
        ).fetchone()[0]
        conn.execute("DELETE FROM audit_event WHERE chain = 3 AND seq = %s", [EVENTS_PER_CHAIN[3]])
    split = verify(env, parallel_from=1)
    assert split.returncode == 1
    assert f"event #{edited} (chain 2, seq 7): content does not match its hash" in split.stderr
    assert "chain head (chain 3" in split.stderr and "deleted" in split.stderr
    assert "NOT intact" in split.stderr
