"""Verification of the audit trail: recompute every chain and check the anchors.

Detects an edited event (its hash no longer matches), a deleted event (a gap in the
sequence, or a chain head beyond the last event), an inserted event (a repeated
sequence number or a broken link), reordered events (a broken link), and an anchor
whose signature, or whose signed hash, does not match the chain.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction

from core.audit.anchor import anchored_positions, check_anchors
from core.audit.chain import GENESIS, SORTED_FIELDS, EncodedJSON, canonical_values, encoded
from core.audit.report import Problem, Report

# The event's id and stored hash, then the hashed fields in the canonical form's order.
COLUMNS = ("id", "hash", *SORTED_FIELDS)
_CHAIN, _SEQ, _PREV, _DETAILS = (
    SORTED_FIELDS.index(name) for name in ("chain", "seq", "prev_hash", "details")
)
# The timestamp is formatted by PostgreSQL exactly as chain.canonical formats it (UTC,
# microseconds, "Z"): no datetime objects are built for a million events.
_SELECTED = ", ".join(
    "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    if column == "occurred_at"
    else "details::text"
    if column == "details"
    else column
    for column in COLUMNS
)
MEMO_SIZE = 10_000
BATCH = 5_000


def _events(
    where: str = "", params: list[Any] | None = None
) -> Iterator[tuple[int, str, list[Any]]]:
    """Every event (id, stored hash, hashed values), chain by chain in order, streamed
    from a server-side cursor."""
    sql = f"SELECT {_SELECTED} FROM audit_event {where} ORDER BY chain, seq, id"  # noqa: S608  # nosec B608
    loads = json.loads
    # The same details come back event after event (a chart read without hidden entries,
    # a rule and an action): each distinct text is parsed and re-encoded once.
    memo: dict[str, EncodedJSON] = {}
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor(name="carnet_audit_verify") as cursor:
            cursor.execute(sql, params or [])
            while rows := cursor.fetchmany(BATCH):
                for row in rows:
                    values = list(row[2:])
                    text = values[_DETAILS]
                    details = memo.get(text)
                    if details is None:
                        details = encoded(loads(text))
                        if len(memo) < MEMO_SIZE:
                            memo[text] = details
                    values[_DETAILS] = details
                    yield row[0], row[1], values


@dataclass
class _Part:
    """What one process found in its chains."""

    events_checked: int = 0
    chains: int = 0
    problems: list[Problem] = field(default_factory=list)
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)
    seen: dict[tuple[int, int], str] = field(default_factory=dict)
    processes: int = 1


def _walk(
    wanted: set[tuple[int, int]], stop_at_first: bool, where: str = "", params: list | None = None
) -> _Part:
    """Walk chains in order; remember the hashes at anchored positions."""
    part = _Part()
    chain = -1
    expected_seq, prev_hash = 1, GENESIS
    for event_id, stored_hash, values in _events(where, params):
        if values[_CHAIN] != chain:
            if chain != -1:
                part.heads[chain] = (expected_seq - 1, prev_hash)
            chain, expected_seq, prev_hash = values[_CHAIN], 1, GENESIS
            part.chains += 1
        part.events_checked += 1
        seq = values[_SEQ]
        found: list[Problem] = []
        if seq < expected_seq:
            part.problems.append(
                Problem(event_id, chain, seq, "sequence number repeated: an event was inserted")
            )
            if stop_at_first:
                return part
            continue
        if seq > expected_seq:
            found.append(
                Problem(
                    event_id, chain, seq, f"events {expected_seq}..{seq - 1} are missing: deleted"
                )
            )
        if values[_PREV] != prev_hash:
            found.append(
                Problem(
                    event_id,
                    chain,
                    seq,
                    "link to the previous event is broken: inserted or reordered",
                )
            )
        if sha256(canonical_values(values)).hexdigest() != stored_hash:
            found.append(Problem(event_id, chain, seq, "content does not match its hash: edited"))
        if found:
            part.problems.extend(found[:1] if stop_at_first else found)
            if stop_at_first:
                return part
        if (chain, seq) in wanted:
            part.seen[(chain, seq)] = stored_hash
        expected_seq, prev_hash = seq + 1, stored_hash
    if chain != -1:
        part.heads[chain] = (expected_seq - 1, prev_hash)
    return part


def _walk_in_child(args: tuple[set[tuple[int, int]], bool, str, list]) -> _Part:
    return _walk(*args)


def _walk_all(wanted: set[tuple[int, int]], stop_at_first: bool) -> _Part:
    """All chains: in this process, or split over the cores (one process per core, each
    with whole chains: a chain is always walked by one process, in order) when the trail
    has at least CARNET_AUDIT_PARALLEL_FROM events and the caller is not inside a
    transaction (a child process has its own connection and only sees committed events)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT chain, seq FROM audit_chain ORDER BY seq DESC")
        sizes = cursor.fetchall()
    processes = min(os.cpu_count() or 1, 8, len(sizes))
    if (
        connection.in_atomic_block
        or processes < 2
        or len(sizes) < 2
        or sum(seq for _chain, seq in sizes) < settings.CARNET_AUDIT_PARALLEL_FROM
    ):
        return _walk(wanted, stop_at_first)
    # Balance by chain length; the last process also takes any chain without a head.
    buckets: list[list[int]] = [[] for _ in range(processes)]
    loads = [0] * processes
    for chain, seq in sizes:
        lightest = loads.index(min(loads))
        buckets[lightest].append(chain)
        loads[lightest] += seq
    others = [chain for bucket in buckets[:-1] for chain in bucket]
    jobs = [(wanted, stop_at_first, "WHERE chain = ANY(%s)", [bucket]) for bucket in buckets[:-1]]
    jobs.append((wanted, stop_at_first, "WHERE NOT (chain = ANY(%s))", [others]))
    connections.close_all()  # the children must not share this process's connection
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_walk_in_child, jobs)
    merged = _Part(processes=processes)
    for part in parts:
        merged.events_checked += part.events_checked
        merged.chains += part.chains
        merged.problems.extend(part.problems)
        merged.heads.update(part.heads)
        merged.seen.update(part.seen)
    merged.problems.sort(key=lambda problem: problem.chain)  # stable: in order per chain
    if stop_at_first:
        merged.problems = merged.problems[:1]
    return merged


def _chain_problems(report: Report, wanted: set[tuple[int, int]], seen: dict) -> Iterator[Problem]:
    """Problems in the chains, then chain heads that do not match the last event."""
    stop_at_first = report.stop_at_first
    part = _walk_all(wanted, stop_at_first)
    report.events_checked += part.events_checked
    report.chains += part.chains
    report.processes = part.processes
    seen.update(part.seen)
    yield from part.problems
    heads = part.heads
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
    report = Report(stop_at_first=stop_at_first)
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
