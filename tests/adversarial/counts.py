"""Counts the adversarial tests report: cases, examples, faults injected.

Each test adds what it exercised with `record("authorization matrix", "cases", n)`;
the totals are printed at the end of the run (tests/conftest.py) so a reader sees how
much was tried, not only that it passed. Counts go to a file because pytest may run
tests in subprocesses (servers, load clients) that report too.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

COUNTS_FILE = Path(os.environ.get("CARNET_COUNTS_FILE", "var/test/adversarial-counts.jsonl"))


def reset() -> None:
    COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    COUNTS_FILE.write_text("")


def record(suite: str, what: str, count: int) -> None:
    COUNTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    with COUNTS_FILE.open("a") as out:
        out.write(json.dumps({"suite": suite, "what": what, "count": count}) + "\n")


def totals() -> dict[tuple[str, str], int]:
    summed: dict[tuple[str, str], int] = defaultdict(int)
    if COUNTS_FILE.exists():
        for line in COUNTS_FILE.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                summed[(row["suite"], row["what"])] += int(row["count"])
    return dict(summed)
