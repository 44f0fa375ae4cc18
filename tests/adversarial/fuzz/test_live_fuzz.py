"""A subset of the fuzzing against a real Carnet: gunicorn over HTTP, its own database,
the demo practice, the schema read from the server itself (/api/schema/).

The in-process runs cover every operation; this one shows the same answers hold through
the real server stack (WSGI server, workers, connection handling): every read operation
of the schema and every FHIR read and search, as the demo practitioner.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from carnet import embedded
from tests.adversarial import counts
from tests.adversarial.fuzz import schemas
from tests.conftest import superuser_conninfo
from tests.e2e.conftest import CARNET, LiveCarnet, free_port, wait_for

# One example per operation: the in-process runs do the volume; this one shows the
# real server stack gives the same answers.
EXAMPLES = schemas.examples({"live": 1})["live"]


@pytest.fixture(scope="module")
def real_carnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCarnet]:
    """Started as in production, like tests/e2e's, on a database of its own (without the
    drug and CIM-10 lists: their searches answer empty lists, which is enough here)."""
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_fuzzlive"
    embedded.create_database(superuser_conninfo(), name, drop_first=True)
    var_dir = tmp_path_factory.mktemp("carnet-fuzz-var")
    where = f"{name}?host={db['HOST']}&port={db['PORT']}"
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "carnet.settings",
        "DATABASE_URL": f"postgresql://{embedded.APP_ROLE}@/{where}",
        "DATABASE_OWNER_URL": f"postgresql://{embedded.OWNER_ROLE}@/{where}",
        "CARNET_VAR_DIR": str(var_dir),
        "CARNET_GNUPG_HOME": str(var_dir / "gnupg"),
        "SESSION_COOKIE_SECURE": "false",
    }
    env.pop("CARNET_DATABASE_ROLE", None)
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_fees"],
        ["demo_data", "--patients", "5"],
    ):
        subprocess.run([CARNET, *command], env=env, check=True, capture_output=True)
    log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [CARNET, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", server)
        credentials = json.loads((var_dir / "demo-credentials.json").read_text())
        yield LiveCarnet(url=url, credentials=credentials, var_dir=var_dir)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        assert b"Traceback" not in (var_dir / "server.log").read_bytes()


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
