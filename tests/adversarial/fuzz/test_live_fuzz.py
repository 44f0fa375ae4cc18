"""A subset of the fuzzing against a real Carnet: gunicorn over HTTP, its own database,
the demo practice, the schema read from the server itself (/api/schema/).

The in-process runs cover every operation; this one shows the same answers hold through
the real server stack (WSGI server, workers, connection handling): every read operation
of the schema and every FHIR read and search, as the demo practitioner.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.adversarial import counts
from tests.adversarial.fuzz import schemas
from tests.live_server import LiveCarnet, live_carnet_running

# One example per operation: the in-process runs do the volume; this one shows the
# real server stack gives the same answers.
EXAMPLES = schemas.examples({"live": 1})["live"]


@pytest.fixture(scope="module")
def real_carnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCarnet]:
    """Started as in production, like tests/e2e's, on a database of its own (without the
    drug and CIM-10 lists: their searches answer empty lists, which is enough here)."""
    setup = (["load_fees"], ["demo_data", "--patients", "5"])
    with live_carnet_running(tmp_path_factory, "fuzzlive", setup, no_tracebacks=True) as carnet:
        yield carnet


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": token})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def test_the_real_server_keeps_to_its_schemas(real_carnet: LiveCarnet) -> None:
    token = f"Bearer {real_carnet.credentials['api_token']['token']}"
    patient = get_json(f"{real_carnet.url}/api/v1/patients/", token)[0]["id"]
    problems = get_json(f"{real_carnet.url}/api/v1/patients/{patient}/problems/", token)
    known = {
        "patient_id": patient,
        "fhir:patient": patient,
        "fhir:Patient": str(patient),
        "day": "2026-01-05",
    }
    if problems:
        known["entry:problems"] = known["fhir:Condition"] = problems[0]["id"]

    rest = schemathesis.openapi.from_url(f"{real_carnet.url}/api/schema/?format=json")
    rest = rest.include(method="GET")
    fhir = schemathesis.openapi.from_dict(schemas.fhir_api_schema())

    def send(case: Any) -> Any:
        return case.call_and_validate(
            base_url=real_carnet.url,
            headers={"Authorization": token, "Accept-Language": "fr"},
            excluded_checks=[positive_data_acceptance],
        )

    examples = operations = 0
    for suite, schema in (("API fuzzing", rest), ("FHIR fuzzing", fhir)):
        outcome = schemas.fuzz(schema, send, known=known, max_examples=EXAMPLES)
        counts.record(suite, "examples against a real server", outcome.examples)
        counts.record(suite, "operations against a real server", outcome.operations)
        assert not outcome.failures, "\n\n".join(f"{o}:\n{w}" for o, w in outcome.failures.items())
        assert outcome.statuses[200] > 0
        examples += outcome.examples
        operations += outcome.operations
    assert operations > 50 and examples >= operations
