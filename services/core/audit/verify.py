"""Verification of the audit trail: recompute every chain and check the anchors.

Detects an edited event (its hash no longer matches), a deleted event (a gap in the
sequence, or a chain head beyond the last event), an inserted event (a repeated
sequence number or a broken link), reordered events (a broken link), and an anchor
whose signature, or whose signed hash, does not match the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from core.audit.anchor import anchored_positions, check_anchors
from core.audit.chain import GENESIS, HASHED_FIELDS, event_hash


@dataclass(frozen=True)
class Problem:
    event_id: int | None
    chain: int
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"event #{self.event_id}" if self.event_id is not None else "chain head"
        return f"{where} (chain {self.chain}, seq {self.seq}): {self.message}"


@dataclass
class Report:
    events_checked: int = 0
    chains: int = 0
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


COLUMNS = ("id", *HASHED_FIELDS, "hash")


def _events() -> Iterator[dict[str, Any]]:
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_event ORDER BY chain, seq, id"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(2000):
            for row in rows:
                event = dict(zip(COLUMNS, row, strict=True))
                # Django's psycopg adapter returns jsonb as text (JSONField parses it).
                if isinstance(event["details"], str):
                    event["details"] = json.loads(event["details"])
                yield event


def _chain_problems(report: Report, wanted: set[tuple[int, int]], seen: dict) -> Iterator[Problem]:
    """Walk every chain in order; remember the hashes at anchored positions."""
    heads: dict[int, tuple[int, str]] = {}
    chain = -1
    expected_seq, prev_hash = 1, GENESIS
    for event in _events():
        if event["chain"] != chain:
            if chain != -1:
                heads[chain] = (expected_seq - 1, prev_hash)
            chain, expected_seq, prev_hash = event["chain"], 1, GENESIS
            report.chains += 1
        report.events_checked += 1
        seq = event["seq"]
        event_id = event["id"]
        if seq < expected_seq:
            yield Problem(event_id, chain, seq, "sequence number repeated: an event was inserted")
            continue
        if seq > expected_seq:
            yield Problem(
                event_id, chain, seq, f"events {expected_seq}..{seq - 1} are missing: deleted"
            )
        if event["prev_hash"] != prev_hash:
            yield Problem(
                event_id, chain, seq, "link to the previous event is broken: inserted or reordered"
            )
        if event_hash(event) != event["hash"]:
            yield Problem(event_id, chain, seq, "content does not match its hash: edited")
        if (chain, seq) in wanted:
            seen[(chain, seq)] = event["hash"]
        expected_seq, prev_hash = seq + 1, event["hash"]
    if chain != -1:
        heads[chain] = (expected_seq - 1, prev_hash)

    with connection.cursor() as cursor:
        cursor.execute("SELECT chain, seq, hash FROM audit_chain ORDER BY chain")
        for chain_id, head_seq, head_hash in cursor.fetchall():
            last_seq, last_hash = heads.get(chain_id, (0, GENESIS))
            if (head_seq, head_hash) != (last_seq, last_hash):
                yield Problem(
                    None,
                    chain_id,
                    head_seq,
                    f"the chain head says {head_seq} events but {last_seq} are present:"
                    " events at the end were deleted or added outside Carnet",
                )


def verify_chains(stop_at_first: bool = True) -> Report:
    report = Report()
    wanted = anchored_positions()
    seen: dict[tuple[int, int], str] = {}
    for problem in _chain_problems(report, wanted, seen):
        report.problems.append(problem)
        if stop_at_first:
            return report
    for problem in check_anchors(seen, report):
        report.problems.append(problem)
        if stop_at_first:
            return report
    return report
