"""Schemathesis over the whole OpenAPI schema of the REST API, in-process (WSGI), as a
practitioner and as a secretary (each with a personal API token).

Every operation of the schema is fuzzed, so a new endpoint is covered without any change
here. For each generated request (valid ones, and invalid ones Schemathesis derives by
breaking the schema):

- no 5xx, including at commit time (deferred constraints are checked after each call);
- the status code, the content type and the body are those the schema documents
  (errors included: the one error shape);
- a request that breaks the schema is refused with a 4xx;
- a refused request (4xx) stored nothing: the practice's rows are counted before and
  after it. What accepted requests wrote is counted and reported, not left to pile up
  unseen; the whole run is one transaction, rolled back at its end.
"""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.adversarial import counts
from tests.adversarial.fuzz import schemas
from tests.adversarial.fuzz.conftest import FuzzWorld

SUITE = "API fuzzing"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# A request the schema allows can still be refused by the rules of the trade (a NIR with
# a wrong key, acts that do not combine...): a 400 to valid-looking input is fine.
NOT_CHECKED = [positive_data_acceptance]
# Per operation, bounded so that the fuzzing and the corpus run in a few minutes on two
# cores (CARNET_FUZZ_EXAMPLES=50 for a longer run). The practitioner reaches every view;
# the secretary is refused most clinical ones early, so fewer examples show that her
# refusals are well-formed.
EXAMPLES = schemas.examples({"practitioner": 4, "secretary": 2})

schema = schemas.load(schemas.rest_api_schema())


def known_rows(fuzz_world: FuzzWorld) -> dict[str, Any]:
    return {
        **fuzz_world.known,
        **{f"entry:{kind}": pk for kind, pk in fuzz_world.entries.items()},
    }


class Sender:
    """Calls and checks one case, and keeps the tally of what was written."""

    def __init__(self, fuzz_world: FuzzWorld, token: str) -> None:
        self.world, self.token, self.rows_written = fuzz_world, token, 0

    def __call__(self, case: Any) -> Any:
        before = self.world.counts()
        response = case.call_and_validate(
            headers={"Authorization": self.token, "Accept-Language": "en"},
            excluded_checks=NOT_CHECKED,
        )
        self.world.check_constraints()
        after = self.world.counts()
        if response.status_code >= 400:
            changed = {
                name: (before[name], after[name]) for name in before if before[name] != after[name]
            }
            assert not changed, f"refused ({response.status_code}) but wrote {changed}"
        elif case.method.upper() in WRITES:
            self.rows_written += sum(after.values()) - sum(before.values())
        return response


@pytest.mark.parametrize("role", ["practitioner", "secretary"])
def test_the_rest_api_keeps_to_its_schema(
    role: str, fuzz_world: FuzzWorld, in_process: None
) -> None:
    send = Sender(fuzz_world, fuzz_world.tokens[role])
    outcome = schemas.fuzz(schema, send, known=known_rows(fuzz_world), max_examples=EXAMPLES[role])
    counts.record(SUITE, "examples", outcome.examples)
    # Operations once (the practitioner's run); the secretary's run is counted apart.
    what = "operations" if role == "practitioner" else "operations fuzzed as a secretary"
    counts.record(SUITE, what, outcome.operations)
    counts.record(SUITE, "rows written by accepted requests", send.rows_written)
    assert outcome.operations >= 60  # the whole schema, not an empty one
    assert not outcome.failures, "\n\n".join(
        f"{op}:\n{why}" for op, why in outcome.failures.items()
    )
    # The fuzzer reached past authentication and the 404s into the views.
    assert sum(n for status, n in outcome.statuses.items() if status < 300) > 0
    assert outcome.statuses[400] > 0
