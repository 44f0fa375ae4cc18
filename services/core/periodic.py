"""Work the node's worker does for each practice at every round (``carnet exchange
--loop``). An app registers its job in its ``AppConfig.ready()``; the worker runs every
job inside the practice's context and prints what each says it did. The kernel knows
no app: apps come to it (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable

from core.practices.models import Practice

Job = Callable[[Practice], str]  # returns what was done, "" when nothing
_jobs: dict[str, Job] = {}


def register(name: str, job: Job) -> None:
    _jobs[name] = job


def run_for(practice: Practice) -> list[str]:
    """Run every job for this practice (its context already active); what they did."""
    done = []
    for name, job in sorted(_jobs.items()):
        said = job(practice)
        if said:
            done.append(f"{name}: {said}")
    return done
