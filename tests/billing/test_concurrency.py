"""Fifty people issue invoices at the same instant on real PostgreSQL (separate
processes' connections, a separate database), ten more roll back after taking a number:
the numbers stay contiguous and unique."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.live_server import CARNET, own_database

WORKER = Path(__file__).with_name("concurrent_issue.py")


def test_fifty_parallel_issuers_get_contiguous_unique_numbers(tmp_path: Path) -> None:
    env = own_database("concurrency", tmp_path, DATABASE_CONN_MAX_AGE="0")
    subprocess.run([CARNET, "load_fees"], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [sys.executable, str(WORKER), "50", "10"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    numbers = sorted(number for number, _reference in report["issued"])
    assert numbers == list(range(1, 51))  # contiguous: the 10 rolled-back issues left no hole
    assert len({reference for _number, reference in report["issued"]}) == 50
    assert report["drafts_left"] == 10
