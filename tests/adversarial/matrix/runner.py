"""Sending one request of the matrix in-process, and reading what it left in the trail.

Each request runs inside a savepoint that is rolled back afterwards: an allowed write
(a new entry, a revoked consent, a closed cash day) never changes the world the next
request sees, and the audit events it left are read before the rollback.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core import tenancy
from tests.adversarial.matrix.inventory import FORM, Endpoint
from tests.adversarial.matrix.rules import Ctx
from tests.adversarial.matrix.world import next_monday

SCENARIOS = {
    # scenario -> (patient, entries, address the target's practice rather than one's own)
    "own": ("paul", "plain", False),
    "sensitive": ("paul", "sensitive", False),
    "excluded": ("eve", "plain", False),
    "revoked-consent": ("rita", "plain", False),
    "expired-break-glass": ("bruno", "plain", False),
    "other-practice": ("zoe", "plain", False),
    "other-practice-address": ("zoe", "plain", True),
}


def make_ctx(world: Any, role: Any, scenario: str) -> Ctx:
    from sharing.selectors import node_name

    name, which, by_address = SCENARIOS[scenario]
    case = world.patients[name]
    entries = world.sensitive if which == "sensitive" else case.entries
    if role.person is None:
        request_practice = case.practice
    elif role.is_token or not by_address:
        request_practice = role.practice
    else:
        request_practice = case.practice
    other = world.practice_b if case.practice.pk == world.practice_a.pk else world.practice_a
    gp = (
        world.people["charlie"]
        if request_practice.pk == world.practice_b.pk
        else world.people["alice"]
    )
    return Ctx(
        world=world,
        role=role,
        scenario=scenario,
        case=case,
        entries=entries,
        request_practice=request_practice,
        node=node_name(),
        share_to=other.slug,
        gp_of_request_practice=gp.pk,
        unique=uuid.uuid4().hex,
        care_team_mode=world.care_team_mode,
    )


def path_values(endpoint: Endpoint, ctx: Ctx) -> dict[str, Any]:
    case, entries, world = ctx.case, ctx.entries, ctx.world
    kind = endpoint.entry
    resource: Any = ""
    agenda = world.agenda[ctx.request_practice.pk]
    if kind in APPOINTMENT_KINDS:
        pass  # the appointment of the scenario's patient, below
    elif kind == "patient":
        resource = case.patient.pk
    elif kind == "consent":
        resource = case.consent_id
    elif kind == "audit_event":
        resource = case.audit_event_id
    elif kind == "lab_to_match":
        pass  # the practice's file waiting in the queue, below
    elif kind == "prescription_item":
        resource = entries["prescription"].item_id
    elif kind:
        resource = entries[kind].pk
    return {
        "practice_slug": ctx.request_practice.slug,
        "patient_id": case.patient.pk,
        "entry_type": "problem",
        "entry_id": entries[kind].pk if kind in entries else "",
        "prescription_id": entries["prescription"].pk,
        "document_id": entries["document"].pk,
        "invoice_id": case.invoice_id,
        "consent_id": case.consent_id,
        "restriction_id": case.restriction_id,
        "grant_id": case.grant_id,
        "access_id": case.emergency_id,
        "key_id": ctx.role.key_id or "000000000000",
        "message_id": world.inbox[case.practice.pk],
        "day": timezone.localdate().isoformat(),
        "document": "bordereau",
        "resource_id": resource,
        "version_id": 1,  # the world's entries are never corrected: their first version
        "person_id": ctx.gp_of_request_practice,
        "invitation_id": world.invitation[ctx.request_practice.pk],
        "application_id": world.application_id,
        # a member practice of the cooperative: the one the request names
        "practice_id": ctx.request_practice.pk,
        "appointment_id": case.appointments[kind if kind in APPOINTMENT_KINDS else "appointment"],
        "practitioner_id": agenda.practitioner_id,
        "type_id": agenda.type_id,
        "site_id": agenda.site_id,
        "absence_id": agenda.absence_id,
        "feed_id": agenda.feed_id,
        "monday": next_monday().isoformat(),
        # A file waiting for its patient is named by the endpoints that match; the
        # results filed for the scenario's patient by those that read them.
        "lab_file_id": world.lab_queue[case.practice.pk]
        if kind == "lab_to_match"
        else case.lab_file_id,
    }


# The appointments of each patient of the world (world._appointments).
APPOINTMENT_KINDS = ("appointment", "past_appointment", "walk_in")

ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def fill(endpoint: Endpoint, ctx: Ctx) -> str:
    values = path_values(endpoint, ctx)
    path = "/" + ROUTE_PARAM.sub(lambda m: str(values[m.group(1)]), endpoint.route)
    if endpoint.query:
        path += "?" + endpoint.query.format(**values)
    return path


@dataclass
class Result:
    status: int
    location: str
    body: str
    events: list[tuple[str, str, int | None, int | None]]  # action, outcome, actor, patient


def _events(request_id: str) -> list[tuple[str, str, int | None, int | None]]:
    """Read as the superuser: practice chains and the node chain alike."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT action, outcome, actor_id, patient_id FROM audit_event"
            " WHERE request_id = %s ORDER BY id",
            [request_id],
        )
        rows = cursor.fetchall()
        cursor.execute("SET ROLE carnet_app")
    return rows


def send(
    endpoint: Endpoint,
    ctx: Ctx,
    *,
    extra: dict[str, str] | None = None,
    db_role: str = "",
    read_events: bool = True,
) -> Result:
    role = ctx.role
    client = role.client
    path = fill(endpoint, ctx)
    request_id = uuid.uuid4().hex
    headers: dict[str, str] = {"HTTP_X_REQUEST_ID": request_id, "HTTP_ACCEPT_LANGUAGE": "en"}
    if role.is_token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {role.token}"
    elif endpoint.channel in ("api", "fhir") and role.person is not None:
        headers["HTTP_X_CARNET_PRACTICE"] = ctx.request_practice.slug
    headers.update(extra or {})
    method = endpoint.method.lower()
    body = endpoint.body(ctx) if callable(endpoint.body) else endpoint.body
    # A logout or a new session key must not end the role's session for the next case.
    saved = {key: morsel.value for key, morsel in client.cookies.items()}
    with transaction.atomic():
        tenancy.activate(None)
        if db_role:  # e.g. the gateway's role; rolled back with the savepoint
            with connection.cursor() as cursor:
                cursor.execute(f'SET ROLE "{db_role}"')
        if body is None:
            response = getattr(client, method)(path, **headers)
        elif body == FORM:
            response = getattr(client, method)(path, {}, **headers)
        elif endpoint.multipart:
            response = client.post(path, body, **headers)
        else:
            response = getattr(client, method)(
                path, data=json.dumps(body), content_type="application/json", **headers
            )
        events = _events(request_id) if read_events else []
        transaction.set_rollback(True)
    for key, value in saved.items():
        client.cookies[key] = value
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return Result(
        response.status_code,
        response.get("Location", ""),
        content.decode("utf-8", "replace"),
        events,
    )
