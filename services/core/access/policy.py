"""The policy decision point: may this person do this action on this patient's data of
this category, for this purpose?

One pure function, ``decide``, answers with a ``Decision`` (allowed or not, and why).
It performs no I/O: the caller gathers the facts (``Actor`` and ``PatientFacts``), so the
same rules serve the UI, the API, FHIR, PDFs, exports and sharing, and the rules can be
tested exhaustively. Default deny: anything no rule allows is refused.

Rules, in order (the first that applies decides):

1. node admins never reach patient data, whatever other role they hold (the
   cooperative-admin flag grants nothing either: only roles in the practice do);
2. nobody reaches a patient of another practice;
3. a person the patient excluded from the whole record is refused everything — there
   is no exception, not even for the GP of record, nor break-the-glass;
4. identity and administrative data: practitioners and secretaries of the patient's
   practice (practice admins may read identity);
5. clinical data, only for practitioners and only for care:
   a. a person the patient excluded from this entry is refused it;
   b. a sensitive entry is shown only to its author and to those the patient allowed
      for its label (not even the care team otherwise, nor break-the-glass);
   c. the author of an entry may read it;
   d. members of the care team (the GP of record is one) may read;
   e. when the practice has chosen a practice-wide care team, every practitioner of the
      patient's practice may read (after a and b: the patient's exclusions and the
      sensitivity labels still win);
   f. a practitioner with an active break-the-glass grant for this patient may read;
6. anything else is refused.

A second pure function, ``decide_practice``, answers for the practice's own settings
(not patient data): any member may see them, only practice administrators may change
them and run the staff; the desk (secretaries) and administrators run the agenda's
frame and everyone's hours and absences, a practitioner their own hours, absences and
calendar feed; the desk hands over or posts the letters patients are owed (the
letter about an emergency access); only administrators review the emergency accesses.
The named actions of ``ROLES_FOR`` (patients' choices, emergency access, merging and
importing records, the cash book, the accounting exports, the care work report) are for
the roles they name; the dues, the membership and the practice's fee schedule are for
administrators. Pages, APIs, services and templates ask these functions and never test a
role name (``tests/test_roles_in_policy.py``).

A third, ``decide_cooperative``, answers for the cooperative's administration (its member
practices: plan, status, shares; the applications to join; the dues and their payments;
never patient data): only cooperative administrators,
through their own session. Roles in a practice grant nothing there, and neither does the
node-admin flag: a person holding both flags (the node's first account, made by
``carnet createsuperuser``) is let in as cooperative administrator. Applying to join
(the public page) asks no rule: anyone may apply, and nothing is granted until a
cooperative administrator approves.

A fourth, ``decide_node``, answers for the node's own state (replication, backups, WAL
archive, node key: the admin part of the health check; never patient data): only node
administrators, through their own session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

StrOrPromise = str | Promise


class Action(StrEnum):
    READ = "read"
    WRITE = "write"
    PRINT = "print"
    EXPORT = "export"
    SHARE = "share"


class Category(StrEnum):
    IDENTITY = "identity"  # names, birth date, NIR, address
    ADMINISTRATIVE = "administrative"  # insurance, billing, appointments
    CLINICAL = "clinical"  # consultations, problems, treatments, results


class Purpose(StrEnum):
    CARE = "care"
    BILLING = "billing"
    ADMINISTRATION = "administration"
    PATIENT_REQUEST = "patient_request"


class RoleName(StrEnum):
    PRACTITIONER = "practitioner"
    SECRETARY = "secretary"
    PRACTICE_ADMIN = "practice_admin"


@dataclass(frozen=True)
class Actor:
    """Who asks. ``roles`` are the person's roles in ``practice_id``."""

    person_id: int
    practice_id: int | None
    roles: frozenset[str] = frozenset()
    is_node_admin: bool = False
    is_cooperative_admin: bool = False
    label: str = ""


@dataclass(frozen=True)
class PatientFacts:
    """What the policy needs to know about the patient and their choices."""

    patient_id: int
    practice_id: int
    care_team: frozenset[int] = field(default_factory=frozenset)
    excluded: frozenset[int] = field(default_factory=frozenset)  # from the whole record
    label_grants: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    break_glass: frozenset[int] = field(default_factory=frozenset)  # active grants
    # The practice's setting: every practitioner of the practice is in the care team.
    practice_team: bool = False


@dataclass(frozen=True)
class EntryFacts:
    """What the policy needs to know about one clinical entry."""

    author_id: int
    label: str = ""  # sensitivity label, empty when not sensitive
    excluded: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: StrOrPromise  # shown to the person, in their language
    rule: str  # stable code, kept in the audit trail

    def __bool__(self) -> bool:
        return self.allowed


def _deny(rule: str, reason: StrOrPromise) -> Decision:
    return Decision(False, reason, rule)


def _allow(rule: str, reason: StrOrPromise) -> Decision:
    return Decision(True, reason, rule)


ADMINISTRATIVE_CATEGORIES = {Category.IDENTITY, Category.ADMINISTRATIVE}


def decide(
    actor: Actor,
    action: Action,
    category: Category,
    purpose: Purpose,
    patient: PatientFacts,
    entry: EntryFacts | None = None,
) -> Decision:
    if actor.is_node_admin:
        return _deny("no-clinical-role", _("node administrators have no access to patient data"))
    if actor.practice_id is None or actor.practice_id != patient.practice_id:
        return _deny("other-practice", _("the patient belongs to another practice"))
    roles = actor.roles
    if not roles:
        return _deny("no-role", _("no role in this practice"))
    person = actor.person_id
    if person in patient.excluded:
        return _deny(
            "excluded-by-patient", _("the patient has excluded this person from the record")
        )

    if category in ADMINISTRATIVE_CATEGORIES:
        if roles & {RoleName.PRACTITIONER, RoleName.SECRETARY}:
            return _allow("practice-staff", _("staff of the patient's practice"))
        if RoleName.PRACTICE_ADMIN in roles and action == Action.READ:
            return _allow("practice-admin-read", _("practice administrator, identity only"))
        return _deny("role", _("this role has no access to patient files"))

    if category == Category.CLINICAL:
        if RoleName.PRACTITIONER not in roles:
            return _deny("not-practitioner", _("only practitioners see clinical content"))
        if purpose not in (Purpose.CARE, Purpose.PATIENT_REQUEST):
            return _deny("purpose", _("clinical data is only for care"))
        if entry is not None:
            if person in entry.excluded:
                return _deny(
                    "excluded-from-entry", _("the patient has excluded this person from this entry")
                )
            if entry.label and person != entry.author_id:
                if (entry.label, person) in patient.label_grants:
                    return _allow("label-grant", _("allowed by the patient to see this label"))
                return _deny(
                    "sensitive", _("sensitive entry: only its author and those the patient allowed")
                )
            if person == entry.author_id:
                return _allow("author", _("author of the entry"))
        if person in patient.care_team:
            return _allow("care-team", _("member of the patient's care team"))
        if patient.practice_team:
            # The practitioner role was checked above, in the patient's practice.
            return _allow(
                "practice-care-team",
                _("practitioner of the practice, whose care team is every clinician"),
            )
        if person in patient.break_glass:
            return _allow("break-the-glass", _("emergency access (break-the-glass), under review"))
        return _deny("not-in-care-team", _("not in the patient's care team"))

    return _deny("default", _("no rule allows this"))


class PracticeAction(StrEnum):
    """Running the practice itself, not a patient's data."""

    VIEW_SETTINGS = "view_settings"
    CHANGE_SETTINGS = "change_settings"
    MANAGE_STAFF = "manage_staff"  # invite, change roles, deactivate, reset, unlock
    # The agenda's frame: sites, appointment types, the practice's holidays.
    MANAGE_AGENDA = "manage_agenda"
    # One practitioner's opening hours and absences (``subject_id``: that practitioner).
    MANAGE_SCHEDULE = "manage_schedule"
    # A practitioner's own calendar feed (``subject_id``: that practitioner).
    MANAGE_OWN_FEED = "manage_own_feed"
    # A practitioner's billing details, the account their cheques go to
    # (``subject_id``: that practitioner): themselves, or the practice's administrator.
    MANAGE_BILLING_DETAILS = "manage_billing_details"
    # Receiving laboratory files and matching each to its patient by identity (never
    # seeing a value): the desk and the practitioners. Filing writes the results in the
    # chart as the practitioner's (``subject_id``), which the clinical rules decide.
    RECEIVE_LAB_RESULTS = "receive_lab_results"
    # The results nobody has read after three days: who they wait for, never a value.
    REVIEW_LAB_BACKLOG = "review_lab_backlog"
    # Paper handed to or posted for patients by the desk (the letter telling a patient
    # about an emergency access): the desk says it was handed over or posted.
    HAND_OVER_LETTERS = "hand_over_letters"
    # The practice's review of emergency accesses (another person than who used it: the
    # review service checks that on each access).
    REVIEW_EMERGENCY_ACCESS = "review_emergency_access"
    # The exchange with other practices: the messages received and sent (the staff),
    # and opening, accepting or declining a received share, which holds a record.
    VIEW_EXCHANGE = "view_exchange"
    OPEN_SHARES = "open_shares"
    # Recording a patient's choices (exclusions, label grants, sharing consents), usually
    # from a signed paper form: practitioners and secretaries.
    RECORD_PATIENT_CHOICES = "record_patient_choices"
    # Opening an emergency access (break-the-glass) to a patient: practitioners; ``decide``
    # still judges what it opens, patient by patient.
    OPEN_EMERGENCY_ACCESS = "open_emergency_access"
    # Merging a duplicate record into another: practitioners (the merge also needs
    # writing both records' identity and clinical data, which ``decide`` judges).
    MERGE_RECORDS = "merge_records"
    # Importing patients' records from files (FHIR bundles): practitioners.
    IMPORT_RECORDS = "import_records"
    # The cash book: the day's journal, closing the day, its slips; and the accounting
    # exports (FEC, CSV): the practice's staff and administrators.
    KEEP_CASH_BOOK = "keep_cash_book"
    EXPORT_ACCOUNTS = "export_accounts"
    # The care work report (per practitioner, no patient named): practitioners and
    # administrators.
    VIEW_CARE_WORK = "view_care_work"
    # The cooperative's invoices to the practice (its dues): administrators.
    VIEW_DUES = "view_dues"
    # The practice's membership of the cooperative (plan, shares, dues and what it paid):
    # administrators.
    VIEW_MEMBERSHIP = "view_membership"
    # The patients' rights on paper (the waiting-room poster, the leaflet handed at
    # registration): they name the practice, never a patient.
    PRINT_PATIENT_RIGHTS = "print_patient_rights"
    # The practice's own fee schedule: adding dated tariffs, importing a file of them
    # (administrators). Any member reads the schedule (VIEW_SETTINGS).
    MANAGE_FEE_SCHEDULE = "manage_fee_schedule"
    # Leaving the cooperative: the practice's encrypted export, asking to leave, changing
    # its mind during the notice (administrators).
    LEAVE_COOPERATIVE = "leave_cooperative"


# Only the practice's administrators may do these.
ADMIN_ACTIONS = {
    PracticeAction.CHANGE_SETTINGS,
    PracticeAction.MANAGE_STAFF,
    PracticeAction.REVIEW_LAB_BACKLOG,
    PracticeAction.REVIEW_EMERGENCY_ACCESS,
    PracticeAction.VIEW_DUES,
    PracticeAction.MANAGE_FEE_SCHEDULE,
    PracticeAction.VIEW_MEMBERSHIP,
    PracticeAction.LEAVE_COOPERATIVE,
}
# The desk runs the agenda with the administrators: in a French practice the secretary
# enters the doctors' leave and the holidays.
AGENDA_ROLES = {RoleName.PRACTICE_ADMIN, RoleName.SECRETARY}
# Who may do these: any of the roles named (after the checks every action shares: no
# node admin, the actor's own practice, a role there).
ROLES_FOR = {
    PracticeAction.RECORD_PATIENT_CHOICES: {RoleName.PRACTITIONER, RoleName.SECRETARY},
    PracticeAction.OPEN_EMERGENCY_ACCESS: {RoleName.PRACTITIONER},
    PracticeAction.MERGE_RECORDS: {RoleName.PRACTITIONER},
    PracticeAction.IMPORT_RECORDS: {RoleName.PRACTITIONER},
    PracticeAction.KEEP_CASH_BOOK: {
        RoleName.PRACTITIONER,
        RoleName.SECRETARY,
        RoleName.PRACTICE_ADMIN,
    },
    PracticeAction.EXPORT_ACCOUNTS: {
        RoleName.PRACTITIONER,
        RoleName.SECRETARY,
        RoleName.PRACTICE_ADMIN,
    },
    PracticeAction.VIEW_CARE_WORK: {RoleName.PRACTITIONER, RoleName.PRACTICE_ADMIN},
}


def decide_practice(
    actor: Actor, action: PracticeAction, practice_id: int, subject_id: int | None = None
) -> Decision:
    """May this person see or change the settings of this practice (the care-team
    setting, for instance), run its staff or its agenda? Not patient data: the
    cooperative-admin and node-admin flags grant nothing, only roles in the practice do;
    a node admin deploys the node and runs nothing in a practice, whatever role they
    also hold. ``subject_id`` is the practitioner whose schedule or feed is concerned."""
    if actor.is_node_admin:
        return _deny("no-practice-role", _("node administrators do not run practices"))
    if actor.practice_id is None or actor.practice_id != practice_id:
        return _deny("other-practice", _("another practice's settings"))
    if not actor.roles:
        return _deny("no-role", _("no role in this practice"))
    if action == PracticeAction.VIEW_SETTINGS:
        return _allow("practice-member", _("member of the practice"))
    if action == PracticeAction.PRINT_PATIENT_RIGHTS:
        # Whoever meets a patient may hand them their rights: any staff of the practice.
        return _allow("practice-staff-rights", _("staff of the practice"))
    if action == PracticeAction.VIEW_EXCHANGE:
        if actor.roles & {RoleName.PRACTITIONER, RoleName.SECRETARY}:
            return _allow("practice-staff", _("practitioner or secretary of the practice"))
        return _deny("not-staff", _("only the practice's staff see its exchanges"))
    if action == PracticeAction.OPEN_SHARES:
        if RoleName.PRACTITIONER in actor.roles:
            return _allow("practice-practitioner", _("practitioner of the practice"))
        return _deny("not-practitioner", _("only practitioners open shared records"))
    if action == PracticeAction.MANAGE_OWN_FEED:
        if RoleName.PRACTITIONER in actor.roles and subject_id == actor.person_id:
            return _allow("own-feed", _("the practitioner's own calendar"))
        return _deny("not-own-feed", _("only the practitioner may manage their calendar feed"))
    if action == PracticeAction.MANAGE_BILLING_DETAILS:
        if RoleName.PRACTITIONER in actor.roles and subject_id == actor.person_id:
            return _allow("own-billing", _("the practitioner's own billing details"))
        if RoleName.PRACTICE_ADMIN in actor.roles:
            return _allow("practice-admin", _("administrator of the practice"))
        return _deny(
            "not-own-billing",
            _("only the practitioner or an administrator may change billing details"),
        )
    if action in (PracticeAction.MANAGE_AGENDA, PracticeAction.MANAGE_SCHEDULE):
        if actor.roles & AGENDA_ROLES:
            return _allow("agenda-desk", _("the desk or an administrator runs the agenda"))
        if (
            action == PracticeAction.MANAGE_SCHEDULE
            and RoleName.PRACTITIONER in actor.roles
            and subject_id == actor.person_id
        ):
            return _allow("own-schedule", _("the practitioner's own hours and absences"))
        return _deny(
            "not-agenda-desk", _("only the desk, an administrator or the practitioner may do this")
        )
    if action == PracticeAction.RECEIVE_LAB_RESULTS:
        if actor.roles & (AGENDA_ROLES | {RoleName.PRACTITIONER}):
            return _allow("lab-intake", _("the desk or a practitioner receives lab results"))
        return _deny("not-lab-intake", _("only the desk or a practitioner receives lab results"))
    if action == PracticeAction.HAND_OVER_LETTERS:
        if actor.roles & AGENDA_ROLES:
            return _allow("desk-letters", _("the desk hands over and posts patients' letters"))
        return _deny("not-desk", _("only the desk hands over or posts patients' letters"))
    if action in ROLES_FOR:
        if actor.roles & ROLES_FOR[action]:
            return _allow(f"may-{action.value}", _("a role of the practice that may do this"))
        return _deny(f"not-{action.value}", _("your role in the practice does not allow this"))
    if action in ADMIN_ACTIONS and RoleName.PRACTICE_ADMIN in actor.roles:
        return _allow("practice-admin", _("practice administrator"))
    if action in (
        PracticeAction.MANAGE_STAFF,
        PracticeAction.REVIEW_LAB_BACKLOG,
        PracticeAction.REVIEW_EMERGENCY_ACCESS,
        PracticeAction.VIEW_DUES,
        PracticeAction.MANAGE_FEE_SCHEDULE,
        PracticeAction.VIEW_MEMBERSHIP,
        PracticeAction.LEAVE_COOPERATIVE,
    ):
        return _deny("not-practice-admin", _("only the practice's administrators may do this"))
    return _deny(
        "not-practice-admin", _("only a practice administrator may change the practice's settings")
    )


class CareTimeView(StrEnum):
    """Reading the time spent documenting ("documentation is care work")."""

    # One practitioner's own figures (``subject_id``), act by act and month by month.
    PRACTITIONER = "practitioner"
    # The practice's totals, with no practitioner's line: for its administrators.
    PRACTICE = "practice"
    # Recording acts and turning one's own sharing switch: a practitioner, for themself.
    OWN = "own"


def decide_care_time(
    actor: Actor,
    view: CareTimeView,
    practice_id: int,
    subject_id: int | None = None,
    *,
    shared: bool = False,
) -> Decision:
    """Who reads whose documentation time. A practitioner reads their own; another
    practitioner of the same practice only when ``subject_id`` shared theirs
    (``shared``, the subject's own switch); the administrators read the practice's
    totals only; the desk nothing. Not patient data: no patient is named."""
    if actor.is_node_admin:
        return _deny("no-practice-role", _("node administrators do not run practices"))
    if actor.practice_id is None or actor.practice_id != practice_id:
        return _deny("other-practice", _("another practice's figures"))
    if view == CareTimeView.PRACTICE:
        if RoleName.PRACTICE_ADMIN in actor.roles:
            return _allow("practice-admin", _("practice administrator"))
        return _deny("not-practice-admin", _("only the practice's administrators may do this"))
    if RoleName.PRACTITIONER not in actor.roles:
        return _deny("not-practitioner", _("only practitioners have documentation time"))
    if subject_id == actor.person_id:
        return _allow("own-care-time", _("the practitioner's own figures"))
    if view == CareTimeView.PRACTITIONER and shared:
        return _allow("shared-care-time", _("the practitioner shared their figures"))
    return _deny("not-shared", _("this practitioner does not share their figures"))


class CooperativeAction(StrEnum):
    """Running the cooperative: its member practices, not any practice's data."""

    VIEW_MEMBERS = "view_members"  # the member practices: plan, status, shares, since when
    # Install the cooperative's signed directory of practices and keys on this node.
    MANAGE_DIRECTORY = "manage_directory"
    # The applications to join: read them, approve (which provisions the practice and
    # makes its first administrator's invitation) or refuse them with a reason.
    REVIEW_APPLICATIONS = "review_applications"
    # A member's dues and the payments the cooperative received for them (a transfer, a
    # cheque), and its shares paid up: read them, record a payment. Dues invoices only,
    # never a patient's.
    MANAGE_DUES = "manage_dues"


# What a cooperative administrator may do: the member practices' membership, never a
# practice's own data (``decide`` and ``decide_practice`` refuse them everything there).
COOPERATIVE_ACTIONS = set(CooperativeAction)


def decide_cooperative(
    actor: Actor, action: CooperativeAction, *, by_token: bool = False
) -> Decision:
    """May this person see the cooperative's member practices? Only the cooperative-admin
    flag lets anyone in. A role in a practice (practice administrator included) grants
    nothing here, nor does the node-admin flag on its own. A personal API token is bound
    to one practice and opens that practice's data only, so it never opens the
    cooperative's: the cooperative administrator uses their own verified session."""
    if by_token:
        return _deny(
            "practice-token", _("an API token opens only the data of the practice it belongs to")
        )
    if not actor.is_cooperative_admin:
        if actor.is_node_admin:
            return _deny(
                "not-cooperative-admin",
                _("node administrators deploy the node; they do not run the cooperative"),
            )
        return _deny(
            "not-cooperative-admin", _("only the cooperative's administrators may see this")
        )
    if action in COOPERATIVE_ACTIONS:
        return _allow("cooperative-admin", _("cooperative administrator"))
    return _deny("default", _("no rule allows this"))


class NodeAction(StrEnum):
    """Running the node itself: its state, never a practice's data."""

    VIEW_STATUS = "view_status"  # replication, backups, WAL archive, node key


def decide_node(actor: Actor, action: NodeAction, *, by_token: bool = False) -> Decision:
    """May this person see the node's state? Only the node-admin flag lets anyone in; a
    role in a practice (administrator included) or the cooperative-admin flag grants
    nothing, and a practice's API token never opens it."""
    if by_token:
        return _deny(
            "practice-token", _("an API token opens only the data of the practice it belongs to")
        )
    if not actor.is_node_admin:
        return _deny("not-node-admin", _("only the node's administrators may see its state"))
    if action == NodeAction.VIEW_STATUS:
        return _allow("node-admin", _("node administrator"))
    return _deny("default", _("no rule allows this"))
