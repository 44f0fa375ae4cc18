"""The expected outcome of a request, from a small rule set written from the documented
policy (docs/architecture.md §5, §8, §13), not from the code under test.

``may`` restates the documented rules of access to a patient's data; ``NEEDS`` says, for
each kind of endpoint of ``inventory.ENDPOINTS``, what it takes. ``expect`` combines them
with the request's role and scenario, and says which audit event a refusal must leave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PRACTITIONER, SECRETARY, ADMIN = "practitioner", "secretary", "practice_admin"
STAFF = {PRACTITIONER, SECRETARY}
DESK = {SECRETARY, ADMIN}  # who runs the agenda's frame (sites, types, holidays)


@dataclass(frozen=True)
class Expectation:
    allowed: bool
    audit: str = ""  # "patient": denied event on the patient; "actor": denied event; "": none
    why: str = ""


@dataclass
class Ctx:
    """One request of the matrix: who, in which scenario, through which practice."""

    world: Any
    role: Any  # world.RoleCase
    scenario: str
    case: Any  # world.PatientCase: the patient the scenario is about
    entries: dict[str, Any]  # kind -> the entry the scenario is about
    request_practice: Any  # the practice named by the address, header or token
    node: str
    share_to: str  # the other practice's slug (a share's recipient)
    gp_of_request_practice: int
    unique: str
    care_team_mode: str = "named"  # the setting of both practices of the world (§5)

    @property
    def person_id(self) -> int | None:
        return self.role.person.pk if self.role.person else None

    @property
    def other_care_team_mode(self) -> str:
        return "named" if self.care_team_mode == "practice" else "practice"


# --- the documented policy, restated ------------------------------------------------------


def may(
    ctx: Ctx,
    action: str,
    category: str,
    purpose: str = "care",
    entry: Any = None,
    case: Any = None,
) -> bool:
    """docs/architecture.md §5: may this person do this on this patient's data?"""
    case = case or ctx.case
    person, roles = ctx.person_id, ctx.role.roles
    if person is None or ctx.request_practice is None:
        return False
    if case.practice.pk != ctx.request_practice.pk:  # another practice: never
        return False
    if ctx.role.practice.pk != ctx.request_practice.pk or not roles:  # no role there
        return False
    if person in case.excluded:  # excluded from the whole record: everything refused
        return False
    if category in ("identity", "administrative"):
        if roles & STAFF:
            return True
        return ADMIN in roles and action == "read"
    # clinical content: practitioners only, for care or the patient's own request
    if PRACTITIONER not in roles or purpose not in ("care", "patient_request"):
        return False
    if entry is not None:
        if person in ctx.world.entry_excluded.get((entry.ENTRY_TYPE, entry.pk), set()):
            return False
        if entry.sensitivity and person != entry.author_id:
            return (entry.sensitivity, person) in ctx.world.label_grants
        if person == entry.author_id:
            return True
    if person in case.care_team:
        return True
    # The practice's setting (§5): in "practice" mode every practitioner of the patient's
    # practice is in the care team (roles and practice were checked above).
    return ctx.care_team_mode == "practice"  # (no active emergency access in this world)


def consent_covers(ctx: Ctx) -> bool:
    """docs §13: an active consent, valid today, to the recipient, for the category."""
    return ctx.case.name in ctx.world.active_consent_to and ctx.world.active_consent_to[
        ctx.case.name
    ] == (ctx.share_to, "allergies")


def _entry(ctx: Ctx, kind: str) -> Any:
    if kind == "prescription_item":
        kind = "prescription"
    return ctx.entries[kind]


NEEDS: dict[str, Callable[[Ctx, Any], bool]] = {
    "identity.read": lambda c, e: may(c, "read", "identity"),
    "identity.write.practice": lambda c, e: bool(c.role.roles & STAFF),
    "identity.write": lambda c, e: may(c, "write", "identity", "administration"),
    "clinical.read": lambda c, e: may(c, "read", "clinical"),
    "clinical.write": lambda c, e: may(c, "write", "clinical"),
    "clinical.print.request": lambda c, e: may(c, "print", "clinical", "patient_request"),
    "clinical.export.request": lambda c, e: may(c, "export", "clinical", "patient_request"),
    "admin.print.request": lambda c, e: may(c, "print", "administrative", "patient_request"),
    "admin.read.billing": lambda c, e: may(c, "read", "administrative", "billing"),
    "admin.read.admin": lambda c, e: may(c, "read", "administrative", "administration"),
    "admin.write": lambda c, e: may(c, "write", "administrative", "administration"),
    # the person an exclusion is about never lifts it (§5)
    "admin.write.lift": lambda c, e: (
        may(c, "write", "administrative", "administration")
        and c.world.restriction_person[c.case.name] != c.person_id
    ),
    "entry.read": lambda c, e: may(c, "read", "clinical", entry=_entry(c, e.entry)),
    # a correction needs write on the record and on that entry (§5, "How records uses it")
    "entry.write": lambda c, e: (
        may(c, "write", "clinical") and may(c, "write", "clinical", entry=_entry(c, e.entry))
    ),
    "entry.print": lambda c, e: may(c, "print", "clinical", entry=_entry(c, e.entry)),
    "share": lambda c, e: may(c, "share", "clinical") and consent_covers(c),
    # the patient's shares page: whoever may send the record, consent or not
    "share.page": lambda c, e: may(c, "share", "clinical"),
    # emergency access: practitioners only, to a patient whose identity they may read
    "break-glass": lambda c, e: may(c, "read", "identity") and PRACTITIONER in c.role.roles,
    # the letter about an emergency access is marked handed over or posted by the desk
    # (the policy's HAND_OVER_LETTERS), on a patient whose file the reader may write
    "desk-letter": lambda c, e: (
        may(c, "write", "administrative", "administration") and bool(c.role.roles & DESK)
    ),
    # a practitioner's hours and absences: the desk and administrators, or the
    # practitioner themself (§8, the agenda)
    "schedule": lambda c, e: (
        bool(c.role.roles & DESK)
        or (
            PRACTITIONER in c.role.roles
            and c.person_id == c.world.agenda[c.request_practice.pk].practitioner_id
        )
    ),
    # the account a practitioner's cheques go to: themself, or an administrator
    "billing-details": lambda c, e: (
        (PRACTITIONER in c.role.roles and c.person_id == c.gp_of_request_practice)
        or ADMIN in c.role.roles
    ),
    # a calendar feed is its practitioner's alone (the world's feed is the GP's)
    "own-feed": lambda c, e: (
        PRACTITIONER in c.role.roles and c.person_id == c.gp_of_request_practice
    ),
}

# Role gates of practice-level pages and API (§8, §13): no patient, a role in the practice.
ROLE_GATES: dict[str, set[str]] = {
    "member": {PRACTITIONER, SECRETARY, ADMIN},
    "admin-role": {ADMIN},
    "report-role": {PRACTITIONER, ADMIN},
    "staff-role": {PRACTITIONER, SECRETARY},
    "practitioner-role": {PRACTITIONER},
    "desk-role": DESK,
}

# A refused role gate on patient data is audited (a share holds a patient's record).
AUDIT_FOR_ROLE_GATE = {"practitioner-role": "actor"}  # opening a share is patient data


def expect(endpoint: Any, ctx: Ctx) -> Expectation:
    role = ctx.role
    if endpoint.need == "public":
        # Applying to join the cooperative: anyone, with or without a session or token;
        # the page holds no data (§5: no rule is asked, nothing is granted).
        return Expectation(True)
    if role.person is None:
        return Expectation(False, "", "anonymous")
    if endpoint.channel == "page" and role.is_token:
        return Expectation(False, "", "a token does not open pages")
    if endpoint.need == "cooperative-admin":
        # §5 (decide_cooperative): the cooperative-admin flag only, never a role in a
        # practice; a practice's API token never opens it. Refusals are audited.
        if role.is_token:
            return Expectation(False, "actor", "a practice's token")
        if role.person.is_cooperative_admin:
            return Expectation(True)
        return Expectation(False, "actor", "not a cooperative administrator")
    if endpoint.need == "node-admin":
        # decide_node: the node-admin flag only; roles and the cooperative flag grant
        # nothing. Refusals are audited.
        if role.person.is_node_admin:
            return Expectation(True)
        return Expectation(False, "actor", "not a node administrator")
    if endpoint.need == "authenticated":
        return Expectation(True)
    if not role.roles:  # a cooperative administrator: no role in any practice
        return Expectation(False, "actor", "no role in the practice named")
    if role.practice.pk != ctx.request_practice.pk:
        return Expectation(False, "actor", "no role in the practice named")
    if endpoint.need in ROLE_GATES:
        # an object named in the address (a message) belongs to the scenario's practice;
        # a list (the patient search) is of the practice the request names
        scoped = "<str:message_id>" in endpoint.route or endpoint.entry == "lab_to_match"
        if scoped and ctx.case.practice.pk != ctx.request_practice.pk:
            return Expectation(False, "", "object of another practice")
        if role.roles & ROLE_GATES[endpoint.need]:
            return Expectation(True)
        return Expectation(False, AUDIT_FOR_ROLE_GATE.get(endpoint.need, ""), "role")
    if endpoint.touches_patient and ctx.case.practice.pk != ctx.request_practice.pk:
        return Expectation(False, "", "patient of another practice")
    allowed = NEEDS[endpoint.need](ctx, endpoint)
    if allowed:
        return Expectation(True)
    return Expectation(False, "patient" if endpoint.touches_patient else "actor", "policy")


def visible_markers(ctx: Ctx) -> dict[str, bool]:
    """Every marker of the world, and whether this request may show it."""
    world = ctx.world
    shown: dict[str, bool] = {}
    for case in world.patients.values():
        shown[case.marker] = may(ctx, "read", "identity", case=case)
        for kind, marker in case.markers.items():
            shown[marker] = may(ctx, "read", "clinical", entry=case.entries[kind], case=case)
    paul = world.patients["paul"]
    for kind, marker in world.sensitive_markers.items():
        shown[marker] = may(ctx, "read", "clinical", entry=world.sensitive[kind], case=paul)
    return shown
