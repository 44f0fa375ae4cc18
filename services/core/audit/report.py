"""What a verification of the audit trail found: its problems and its counts (filled by
``core.audit.verify`` for the chains and ``core.audit.anchor`` for the anchors)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    processes: int = 1  # how many processes walked the chains
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    stop_at_first: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems
