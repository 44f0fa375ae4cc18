"""The schemas the fuzzers read, and the loop that fuzzes each of their operations.

The REST API's schema is the one Carnet serves at /api/schema/ (drf-spectacular), built
in-process, so that a new endpoint is fuzzed without touching these tests. FHIR is not in
it: its OpenAPI description is kept beside the corpus (corpus/fhir-openapi.json), written
from the CapabilityStatement Carnet serves.

Each operation gets its own bounded, derandomized Hypothesis run (the same examples in
CI and on a developer's machine), mixing valid requests and requests Schemathesis breaks
on purpose, half of them aimed at rows that exist so that they reach past the 404.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

CORPUS = Path(__file__).with_name("corpus")

FUZZ_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    # A failure is reported as found: shrinking it would cost minutes on two cores.
    phases=[Phase.explicit, Phase.generate],
)


def examples(per_role: dict[str, int]) -> dict[str, int]:
    """Examples per operation for each role. CARNET_FUZZ_EXAMPLES=<n> gives every role n,
    for a longer run than the one in `make test` (bounded for two cores)."""
    wanted = os.environ.get("CARNET_FUZZ_EXAMPLES", "")
    return {role: int(wanted) for role in per_role} if wanted.isdigit() else dict(per_role)


ENTRY_KINDS = ("encounters", "problems", "allergies", "immunizations", "observations")


def rest_api_schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    raw = SchemaGenerator().get_schema(request=None, public=True)
    # Round trip through JSON, as a client reads it (lazy strings, dates...).
    return json.loads(json.dumps(raw, default=str))


def fhir_api_schema() -> dict[str, Any]:
    return json.loads((CORPUS / "fhir-openapi.json").read_text())


def load(raw: dict[str, Any]) -> Any:
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    return schema


def aimed_parameters(path: str, known: dict[str, Any]) -> dict[str, Any]:
    """Existing rows for the path's parameters: the patient, the entry of this path's
    kind, the invoice... (FHIR: the resource of the path's type)."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    aimed = {}
    for name in names:
        key = name
        if name == "entry_id":
            key = "entry:" + next((kind for kind in ENTRY_KINDS if f"/{kind}/" in path), "")
        elif name == "id" and path.startswith("/fhir/"):
            key = "fhir:" + path.split("/")[3]
        if key in known:
            aimed[name] = known[key]
    return aimed if len(aimed) == len(names) else {}


def aimed_query(operation: Any, known: dict[str, Any]) -> dict[str, Any]:
    """A FHIR search about the patient who has one of everything."""
    names = {parameter.name for parameter in operation.query}
    return (
        {"patient": str(known["fhir:patient"])}
        if "patient" in names and "fhir:patient" in known
        else {}
    )


def cases(operation: Any, known: dict[str, Any]) -> Any:
    aimed = aimed_parameters(operation.path, known)
    query = aimed_query(operation, known)
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if aimed:
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=aimed))
        if query:
            strategies.append(operation.as_strategy(generation_mode=mode, query=query))
    return st.one_of(strategies)


@dataclass
class Outcome:
    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


def fuzz(
    schema: Any,
    send: Callable[[Any], Any],
    *,
    known: dict[str, Any],
    max_examples: int,
) -> Outcome:
    """Run ``send(case)`` (which calls and checks) on generated cases of every operation;
    a failing operation is recorded and the next one goes on."""
    outcome = Outcome()
    for result in schema.get_all_operations():
        operation = result.ok()
        outcome.operations += 1

        @settings(FUZZ_SETTINGS, max_examples=max_examples)
        @given(case=cases(operation, known))
        def run(case: Any) -> None:
            outcome.examples += 1
            response = send(case)
            outcome.statuses[response.status_code] += 1

        try:
            run()
        except Exception as error:
            outcome.failures[f"{operation.method.upper()} {operation.path}"] = str(error)[:3000]
    return outcome
