"""Twenty processes book the same slot at the same instant on real PostgreSQL (each its
own connection, a database of its own): exactly one appointment exists afterwards, and
every other caller got the clear "taken" answer with the next free times."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.live_server import own_database

WORKER = Path(__file__).with_name("concurrent_booking.py")
CALLERS = 20


def test_twenty_processes_book_the_same_slot_one_wins(tmp_path: Path) -> None:
    env = own_database("agenda_race", tmp_path, DATABASE_CONN_MAX_AGE="0", LANGUAGE_CODE="fr")
    result = subprocess.run(
        [sys.executable, str(WORKER), str(CALLERS)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["pids"] == CALLERS
    kinds = [kind for kind, _detail in report["answers"]]
    errors = [detail for kind, detail in report["answers"] if kind == "error"]
    assert errors == []
    assert kinds.count("booked") == 1
    assert kinds.count("taken") == CALLERS - 1
    assert len(report["held"]) == 1  # exactly one appointment holds the slot
    for kind, detail in report["answers"]:
        if kind == "taken":
            count, message = detail.split("|", 1)
            assert int(count) > 0  # the next free slots come with the answer
            assert message
