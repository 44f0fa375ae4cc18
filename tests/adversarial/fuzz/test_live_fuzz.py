"""A subset of the fuzzing against a real Carnet: gunicorn over HTTP, its own database,
the demo practice, the schema read from the server itself (/api/schema/).

The in-process runs cover every operation; this one shows the same answers hold through
the real server stack (WSGI server, workers, connection handling): every read operation
of the schema and every FHIR read and search, as the demo practitioner.
"""

from __future__ import annotations

import http.client
import json
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import schemathesis
from django.urls import reverse
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


def test_one_kept_alive_connection_carries_pages_answers_and_errors(
    real_carnet: LiveCarnet,
) -> None:
    """The server keeps the connection open between requests (gthread workers); every
    answer on it, errors included, keeps its headers and its error format."""
    token = f"Bearer {real_carnet.credentials['api_token']['token']}"
    api = {"Authorization": token, "Accept-Language": "fr"}
    connection = http.client.HTTPConnection(urlparse(real_carnet.url).netloc, timeout=10)
    sockets = set()

    def get(path: str, headers: dict[str, str], method: str = "GET", body: str = "") -> Any:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        sockets.add(id(connection.sock))
        assert response.getheader("Connection", "").lower() != "close", path
        assert response.getheader("X-Content-Type-Options") == "nosniff", path
        assert response.getheader("X-Frame-Options") == "DENY", path
        assert response.getheader("Referrer-Policy") == "same-origin", path
        return response, content

    page, _ = get(reverse("accounts:login"), {})
    assert page.status == 200 and "frame-ancestors 'none'" in page.getheader(
        "Content-Security-Policy"
    )
    answer, content = get("/api/v1/patients/", api)
    assert answer.status == 200 and answer.getheader("Cache-Control") == "no-store"
    assert json.loads(content)
    missing, content = get("/api/v1/patients/999999999/", api)
    assert missing.status == 404 and json.loads(content)["error"]["status"] == 404
    refused, content = get("/api/v1/patients/", {"Authorization": "Bearer forged"})
    assert refused.status == 401 and json.loads(content)["error"]["status"] == 401
    malformed, content = get(
        "/api/v1/patients/", {**api, "Content-Type": "application/json"}, "POST", "{not json"
    )
    assert malformed.status == 400 and json.loads(content)["error"]["status"] == 400
    again, _ = get("/api/v1/patients/", api)
    assert again.status == 200
    connection.close()
    assert len(sockets) == 1, "the server closed the connection between two requests"
