"""The authorization matrix: every endpoint, every role, every scenario.

Endpoints come from the URL configuration and the OpenAPI schema (``inventory``); the
expected outcome of each request comes from the documented rules (``rules``). A request
fails the matrix when it reaches data the rules refuse (a 2xx where a refusal is
expected, or a marker of a patient or entry the reader may not see anywhere in the
body), when it is refused where the rules allow it, when it answers a 5xx, or when a
refusal of patient data leaves no ``denied`` event naming the actor (and the patient).
All failures are reported at once.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from typing import Any

import pytest
from django.test import override_settings

from tests.adversarial import counts
from tests.adversarial.matrix.inventory import (
    ENDPOINTS,
    FORM,
    PUBLIC,
    Endpoint,
    by_key,
    openapi_operations,
    route_as_openapi,
    url_routes,
    view_methods,
)
from tests.adversarial.matrix.rules import Expectation, expect, visible_markers
from tests.adversarial.matrix.runner import SCENARIOS, Result, make_ctx, send
from tests.adversarial.matrix.world import MatrixWorld

SESSIONS = ["alice", "bob", "sam", "charlie"]
TOKENS = [f"{name}-token" for name in SESSIONS]
# The cooperative's administrator has no practice, so no personal API token.
ROLES = [*SESSIONS, *TOKENS, "coop", "anonymous"]


def test_every_endpoint_is_classified() -> None:
    """A route or an OpenAPI operation that the table does not know fails here."""
    table = by_key()
    routes = dict(url_routes())
    classified_routes = {route for route, _method in table}
    problems = [
        f"route not classified (add it to inventory.ENDPOINTS or PUBLIC): {route}"
        for route in routes
        if route not in classified_routes and route not in PUBLIC
    ]
    for route, pattern in routes.items():
        for method in view_methods(pattern):
            if route not in PUBLIC and (route, method) not in table:
                problems.append(f"method not classified: {method} {route}")
    openapi = {(route_as_openapi(route), method) for route, method in table}
    operations = openapi_operations()
    problems += [
        f"OpenAPI operation not classified: {method} /{path}"
        for path, method in operations
        if (path, method) not in openapi
    ]
    problems += [
        f"classified route no longer exists: {route}"
        for route in classified_routes | set(PUBLIC)
        if route not in routes
    ]
    assert not problems, "\n".join(problems)
    assert len(operations) > 50  # the schema was really read


CLINICAL_NEEDS = {"clinical.", "entry.", "share", "break-glass"}


def relevant(endpoint: Endpoint, scenario: str) -> bool:
    """A scenario is run where it can change the outcome: a sensitive entry on the
    endpoints of one entry (record-level reads are searched for its marker in every
    scenario), an expired emergency access where clinical data is at stake, a revoked
    consent where consents are."""
    clinical = any(endpoint.need.startswith(need) for need in CLINICAL_NEEDS)
    if scenario == "sensitive":
        return endpoint.need.startswith("entry.")
    if scenario == "expired-break-glass":
        return clinical
    if scenario == "revoked-consent":
        return (
            endpoint.need == "share" or "consent" in endpoint.route or "refusal" in endpoint.route
        )
    return True


def scenarios_for(endpoint: Endpoint, role_name: str) -> list[str]:
    """Pages are for sessions, the API and FHIR for tokens: each gets every relevant
    scenario through its own way in, and the other way in is checked on the scenarios
    where it differs (a session naming another practice in its address or header)."""
    if role_name == "anonymous":
        return ["own"]
    token = role_name.endswith("-token")
    if not endpoint.touches_patient:
        return ["own"] if token else ["own", "other-practice-address"]
    if token and endpoint.channel == "page":
        return ["own"]
    if not token and endpoint.channel != "page":
        return ["own", "other-practice-address"]
    every = [s for s in SCENARIOS if relevant(endpoint, s)]
    return [s for s in every if s != "other-practice-address"] if token else every


def granted(endpoint: Endpoint, result: Result) -> bool:
    """Did the request get past the access checks?"""
    to_login = result.status in (301, 302) and "/connexion/" in result.location
    if 200 <= result.status < 300:
        return True
    if 300 <= result.status < 400:
        return not to_login
    # A page's form posted empty says 400 only once the access checks let it through.
    return endpoint.body == FORM and result.status == 400


def judge(endpoint: Endpoint, ctx: Any, expected: Expectation, result: Result) -> list[str]:
    problems = []
    if result.status >= 500:
        problems.append(f"server error {result.status}")
    passed = granted(endpoint, result)
    if expected.allowed and not passed:
        problems.append(f"refused ({result.status}) where the rules allow it")
    if not expected.allowed:
        to_login = result.status in (301, 302) and "/connexion/" in result.location
        if passed:
            problems.append(f"UNEXPECTED ACCESS ({result.status}); rules say no: {expected.why}")
        elif result.status not in (401, 403, 404) and not to_login:
            problems.append(f"refusal with status {result.status}")
        person = ctx.person_id
        denied = [e for e in result.events if e[1] == "denied" and e[2] == person]
        if expected.audit == "patient" and not any(e[3] == ctx.case.patient.pk for e in denied):
            problems.append(f"refusal not audited on the patient: {result.events}")
        if expected.audit == "actor" and not denied:
            problems.append(f"refusal not audited: {result.events}")
    for marker, allowed in visible_markers(ctx).items():
        if not allowed and marker in result.body:
            problems.append(f"LEAK: {marker} in the body")
    return problems


def run_matrix(world: MatrixWorld, endpoints: list[Endpoint]) -> tuple[int, list[str]]:
    import os
    import time

    cases = 0
    failures: list[str] = []
    for endpoint in endpoints:
        started = time.monotonic()
        for role_name in ROLES:
            role = world.roles[role_name]
            for scenario in scenarios_for(endpoint, role_name):
                ctx = make_ctx(world, role, scenario)
                expected = expect(endpoint, ctx)
                result = send(endpoint, ctx, read_events=not expected.allowed)
                cases += 1
                for problem in judge(endpoint, ctx, expected, result):
                    where = f"{endpoint.method} /{endpoint.route} as {role_name} [{scenario}]"
                    failures.append(f"{where}: {problem}")
        if os.environ.get("MATRIX_TIMING"):
            print(f"{time.monotonic() - started:6.2f}s {endpoint.method} {endpoint.route}")
    return cases, failures


@pytest.mark.parametrize("care_team_mode", ["named", "practice"])
def test_authorization_matrix(mx: MatrixWorld, care_team_mode: str) -> None:
    """Every endpoint, role and scenario, with both practices in each care-team setting
    (§5): in "practice" mode Bob reads Paul's clinical data without being named in his
    team, while exclusions, sensitive entries and revoked consents still refuse."""
    mx.set_care_team_mode(care_team_mode)
    try:
        cases, failures = run_matrix(mx, ENDPOINTS)
    finally:
        mx.set_care_team_mode("named")
    counts.record("authorization matrix", "cases", cases)
    counts.record("authorization matrix", f"cases with care team {care_team_mode!r}", cases)
    counts.record("authorization matrix", "endpoints", len(ENDPOINTS))
    summary = Counter(f.split(": ", 1)[1].split(" (")[0][:40] for f in failures)
    assert not failures, f"{len(failures)} of {cases} cases failed {dict(summary)}:\n" + "\n".join(
        failures[:400]
    )


def _gateway_urlconf() -> str:
    """The URL configuration of a CARNET_SERVICE=gateway process."""
    import carnet.urls

    name = "tests_adversarial_gateway_urls"
    if name not in sys.modules:
        with override_settings(CARNET_SERVICE="gateway"):
            spec = importlib.util.spec_from_file_location(name, carnet.urls.__file__)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        sys.modules[name] = module
    return name


def test_the_gateway_serves_no_practice_endpoint(mx: MatrixWorld) -> None:
    """The internet-facing gateway, with its own database role, answers 404 to every
    endpoint of the table, whoever asks."""
    urlconf = _gateway_urlconf()
    served = {route for route, _pattern in url_routes(urlconf)}
    assert served == {"healthz", "i18n/setlang/", "federation/v1/messages"}
    failures = []
    cases = 0
    with override_settings(ROOT_URLCONF=urlconf):
        for endpoint in ENDPOINTS:
            for role_name in ("alice-token", "anonymous"):
                ctx = make_ctx(mx, mx.roles[role_name], "own")
                result = send(endpoint, ctx, db_role="carnet_gateway")
                cases += 1
                if result.status != 404 or any(m in result.body for m in visible_markers(ctx)):
                    failures.append(f"{endpoint.method} /{endpoint.route}: {result.status}")
    counts.record("authorization matrix", "cases", cases)
    assert not failures, "\n".join(failures)


def test_the_calendar_feed_answers_its_secret_only_and_names_no_one(mx: MatrixWorld) -> None:
    """The feed is outside the role matrix (a calendar program holds no session): whoever
    asks, with or without a session, gets the practice GP's feed for its secret only,
    and it carries no patient's name or clinical text (no opt-in)."""
    import hashlib

    from django.db import transaction

    from agenda.models import CalendarFeed
    from core import tenancy

    secret = "s3cret-of-the-matrix"
    failures = []
    with transaction.atomic():
        tenancy.activate(None)
        CalendarFeed.objects.filter(pk=mx.agenda[mx.practice_a.pk].feed_id).update(
            key_id="mxfeed0000000001", secret_hash=hashlib.sha256(secret.encode()).hexdigest()
        )
        for role_name in [*SESSIONS, "anonymous"]:
            client = mx.roles[role_name].client
            for token, expected in (
                (f"mxfeed0000000001.{secret}", 200),
                ("mxfeed0000000001.wrong", 404),
                (f"mxfeed0000000002.{secret}", 404),
            ):
                with transaction.atomic():
                    response = client.get(f"/agenda/ical/{token}.ics")
                    transaction.set_rollback(True)
                body = response.content.decode()
                if response.status_code != expected:
                    failures.append(f"{role_name} {token}: {response.status_code}")
                leaked = [marker for marker, *_rest in mx.all_markers() if marker in body]
                if leaked:
                    failures.append(f"{role_name} {token}: LEAK {leaked}")
        transaction.set_rollback(True)
    counts.record("authorization matrix", "cases", len(SESSIONS) * 3 + 3)
    assert not failures, "\n".join(failures)
