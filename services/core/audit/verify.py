"""Verification of the audit trail: recompute every chain and check the anchors.

Detects an edited event (its hash no longer matches), a deleted event (a gap in the
sequence or a head beyond the last event), an inserted event (a repeated sequence
number or a broken link) and reordered events (a broken link), and an anchor whose
signature or whose hash does not match the chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

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
    problems: list[Problem] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _events() -> Iterator[dict]:
    columns = ("id", *[f for f in HASHED_FIELDS], "hash")
    sql = f"SELECT {', '.join(columns)} FROM audit_event ORDER BY chain, seq, id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(2000):
            for row in rows:
                yield dict(zip(columns, row, strict=True))


def verify_chains(stop_at_first: bool = True) -> Report:
    report = Report(problems=[])
    assert report.problems is not None
    heads: dict[int, tuple[int, str]] = {}
    chain = None
    expected_seq, prev_hash = 1, GENESIS
    seen_hashes: dict[int, dict[int, str]] = {}

    def problem(event: dict | None, chain_id: int, seq: int | None, message: str) -> bool:
        report.problems.append(  # type: ignore[union-attr]
            Problem(event["id"] if event else None, chain_id, seq, message)
        )
        return stop_at_first

    for event in _events():
        if event["chain"] != chain:
            if chain is not None:
                heads[chain] = (expected_seq - 1, prev_hash)
            chain = event["chain"]
            report.chains += 1
            expected_seq, prev_hash = 1, GENESIS
            seen_hashes[chain] = {}
        report.events_checked += 1
        seq = event["seq"]
        if seq < expected_seq:
            if problem(event, chain, seq, "sequence number repeated: an event was inserted"):
                return report
            continue
        if seq > expected_seq:
            if problem(
                event, chain, seq, f"events {expected_seq}..{seq - 1} are missing: deleted"
            ):
                return report
        if event["prev_hash"] != prev_hash:
            if problem(event, chain, seq, "link to the previous event is broken: inserted or reordered"):
                return report
        if event_hash(event) != event["hash"]:
            if problem(event, chain, seq, "content does not match its hash: edited"):
                return report
        seen_hashes[chain][seq] = event["hash"]
        expected_seq, prev_hash = seq + 1, event["hash"]
    if chain is not None:
        heads[chain] = (expected_seq - 1, prev_hash)

    with connection.cursor() as cursor:
        cursor.execute("SELECT chain, seq, hash FROM audit_chain ORDER BY chain")
        for chain_id, head_seq, head_hash in cursor.fetchall():
            last_seq, last_hash = heads.get(chain_id, (0, GENESIS))
            if head_seq != last_seq or head_hash != last_hash:
                if problem(
                    None,
                    chain_id,
                    head_seq,
                    f"the chain head says {head_seq} events but {last_seq} are present:"
                    " events at the end were deleted or added outside Carnet",
                ):
                    return report

    from core.audit.anchor import check_anchors

    for anchor_problem in check_anchors(seen_hashes, report):
        report.problems.append(anchor_problem)
        if stop_at_first:
            return report
    return report
