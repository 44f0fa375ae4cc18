"""Audit completeness: every endpoint and page that touches patient data, called by a
person the rules allow, leaves the event the architecture promises (docs §6): who (the
actor), what (the action), on which patient, and the outcome.

The endpoints are those of the matrix's inventory, so a new endpoint is walked as soon
as it is classified. Pages that list many patients (the patient list, the API list, the
FHIR Patient search) leave one ``patient.search`` event, as the architecture says.
"""

from __future__ import annotations

from tests.adversarial import counts
from tests.adversarial.matrix.inventory import ENDPOINTS, FORM, Endpoint, by_key
from tests.adversarial.matrix.rules import expect
from tests.adversarial.matrix.runner import make_ctx, send
from tests.adversarial.matrix.world import MatrixWorld

CANDIDATES = ("alice", "sam", "pia", "bob", "coop")


def expected_actions(endpoint: Endpoint) -> tuple[str, ...]:
    """The table's audit, or for an empty form posted to a page, the page's own (the
    access decision is recorded before the form is read)."""
    if endpoint.audit:
        return endpoint.audit
    twin = by_key().get((endpoint.route, "GET"))
    return twin.audit if twin else ()


def test_every_endpoint_touching_patients_names_its_audit_event() -> None:
    missing = [
        f"{e.method} /{e.route}" for e in ENDPOINTS if e.touches_patient and not expected_actions(e)
    ]
    assert not missing, "say which audit event these leave:\n" + "\n".join(missing)


def test_every_read_and_write_of_patient_data_is_audited(mx: MatrixWorld) -> None:
    walked = 0
    failures = []
    for endpoint in ENDPOINTS:
        actions = expected_actions(endpoint)
        if not actions:
            continue
        legitimate = None
        for name in CANDIDATES:
            # the API through a token, except for whoever has none (the cooperative's
            # administrator calls with her session)
            token = f"{name}-token"
            role = mx.roles[name if endpoint.channel == "page" or token not in mx.roles else token]
            ctx = make_ctx(mx, role, "own")
            if expect(endpoint, ctx).allowed:
                legitimate = ctx
                break
        assert legitimate is not None, f"nobody may call {endpoint.method} /{endpoint.route}"
        result = send(endpoint, legitimate)
        walked += 1
        where = f"{endpoint.method} /{endpoint.route} as {legitimate.role.name}"
        ok = 200 <= result.status < 400 or (endpoint.body == FORM and result.status == 400)
        if not ok:
            failures.append(f"{where}: status {result.status}")
            continue
        person = legitimate.person_id
        patient = legitimate.case.patient.pk if endpoint.audit_patient else None
        matching = [
            event
            for event in result.events
            if event[0] in actions
            and event[1] == "success"
            and event[2] == person
            and (patient is None or event[3] == patient)
        ]
        if not matching:
            failures.append(
                f"{where}: expected {actions} by {person} on {patient}, got {result.events}"
            )
    counts.record("audit completeness", "endpoints walked", walked)
    assert walked > 80
    assert not failures, "\n".join(failures)
