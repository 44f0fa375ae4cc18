"""The patient's access report: "who looked at my record", in words a patient reads.

Built from the audit trail, which is never rewritten: the report only chooses how to
say it. One line per access — who (a name and what they do), when, what (a verb, "opened
your record", "printed a prescription"), why — and a summary of the period first (how
many people, any emergency access, any share, any refusal).

One access is one request: the events one request recorded about the patient (older
trails hold two for some reads — the policy's decision and the read itself — and a
consultation is recorded with one event per vital sign) make one line, said by its most
precise event. A refusal always has a line of its own. Outside a request (commands,
imports), a consultation and its vital signs are one access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.access.models import SensitivityLabel
from core.accounts.models import Membership, Person
from core.audit.models import AuditEvent
from core.audit.selectors import events_for_patient
from core.practices.models import Practice
from records.models.patients import field_label

SUCCESS = "success"
SAME_ACCESS = timedelta(seconds=2)

# The policy's decision on a whole category, recorded beside the caller's own event by
# older versions: said only when nothing more precise was recorded by the same access.
DECISIONS = {"patient.read", "patient.write", "patient.print", "patient.export", "patient.share"}

ENTRY_ADDED = {
    "encounter": gettext_lazy("recorded a consultation"),
    "problem": gettext_lazy("added a health problem or a history"),
    "allergy": gettext_lazy("added an allergy"),
    "prescription": gettext_lazy("wrote a prescription"),
    "immunization": gettext_lazy("recorded a vaccination"),
    "observation": gettext_lazy("recorded a measurement or a result"),
    "document": gettext_lazy("added a document or a letter"),
}
ENTRY_CORRECTED = {
    "encounter": gettext_lazy("corrected a consultation"),
    "problem": gettext_lazy("corrected a health problem"),
    "allergy": gettext_lazy("corrected an allergy"),
    "prescription": gettext_lazy("corrected a prescription"),
    "immunization": gettext_lazy("corrected a vaccination"),
    "observation": gettext_lazy("corrected a measurement or a result"),
    "document": gettext_lazy("corrected a document"),
}
ENTRY_REMOVED = gettext_lazy("removed an entry written by mistake")

ACTIONS = {
    "document.read": gettext_lazy("opened a document of your record"),
    "appointment.read": gettext_lazy("looked at your appointments"),
    "prescription.print": gettext_lazy("printed a prescription"),
    "prescription.override": gettext_lazy(
        "went on with a prescription despite a safety alert, giving the reason"
    ),
    "letter.print": gettext_lazy("printed a letter"),
    "certificate.print": gettext_lazy("printed a certificate"),
    "care_sheet.print": gettext_lazy("printed a care sheet"),
    "receipt.print": gettext_lazy("printed a receipt"),
    "access_report.print": gettext_lazy("printed this report"),
    "access_report.read": gettext_lazy("looked at this report"),
    "patient.export": gettext_lazy("exported a copy of your record (portability)"),
    "patient.create": gettext_lazy("registered you as a patient"),
    "patient.merge": gettext_lazy("merged your record with a duplicate"),
    "patient.gp_changed": gettext_lazy("changed your GP of record"),
    "patient.write": gettext_lazy("updated your record"),
    "access.denied": gettext_lazy("was refused access to your record"),
    "break_glass.start": gettext_lazy("opened your record in an emergency"),
    "break_glass.review": gettext_lazy("checked an emergency access"),
    "api.replay": gettext_lazy("received again the answer to a change it sent (a retry)"),
    "appointment.book": gettext_lazy("booked an appointment"),
    "appointment.move": gettext_lazy("moved an appointment"),
    "appointment.cancel": gettext_lazy("cancelled an appointment"),
    "appointment.no_show": gettext_lazy("noted a missed appointment"),
    "appointment.arrived": gettext_lazy("checked you in"),
    "appointment.walk_in": gettext_lazy("added you to the waiting room"),
    "appointment.start": gettext_lazy("called you in"),
    "appointment.done": gettext_lazy("closed an appointment"),
    "appointment.print": gettext_lazy("printed an appointment card"),
    "invoice.draft": gettext_lazy("prepared an invoice"),
    "invoice.issue": gettext_lazy("issued an invoice"),
    "payment.record": gettext_lazy("recorded a payment"),
    "patient_choice.exclude": gettext_lazy("recorded your wish to keep a person out"),
    "patient_choice.exclusion_lifted": gettext_lazy("lifted an exclusion you had asked for"),
    "consent.revoke": gettext_lazy("recorded the withdrawal of a sharing consent"),
    "consent.refuse_all": gettext_lazy("recorded your refusal of all sharing"),
    "consent.refusal_lifted": gettext_lazy("lifted your refusal of all sharing"),
    "share.refused": gettext_lazy("was refused sending your record: no consent of yours"),
    "share.open": gettext_lazy("opened a share received from another practice"),
    "share.accept": gettext_lazy("added a share received from another practice"),
    "share.receipt": gettext_lazy("received the receipt of a share"),
    "share.revoked": gettext_lazy("cancelled a share after your consent was withdrawn"),
    "share.revocation_sent": gettext_lazy("told a practice that your consent was withdrawn"),
    "fhir.import": gettext_lazy("imported your record from another software"),
    "patient_view.pin_set": gettext_lazy("showed you your record on the screen"),
    "lab_result.file": gettext_lazy("filed laboratory results in your record"),
    "lab_file.match": gettext_lazy("matched laboratory results to your record"),
    "lab_result.list": gettext_lazy("saw that laboratory results of yours are waiting"),
    "lab_result.sign_off": gettext_lazy("read and signed off your laboratory results"),
}

# Who acted when no person did: the worker, named in the audit by a fixed label.
SYSTEM_ACTORS = {
    "drop-folder": gettext_lazy("the laboratory, through the practice's drop folder"),
}

PURPOSES = {
    "care": gettext_lazy("for your care"),
    "patient_request": gettext_lazy("at your request"),
    "administration": gettext_lazy("to run the practice"),
    "billing": gettext_lazy("for billing"),
}

PROFESSIONS = {
    "gp": gettext_lazy("general practitioner"),
    "physician": gettext_lazy("doctor"),
    "nurse": gettext_lazy("nurse"),
    "physio": gettext_lazy("physiotherapist"),
    "midwife": gettext_lazy("midwife"),
}
ROLES = {
    "secretary": gettext_lazy("secretary"),
    "practice_admin": gettext_lazy("practice administrator"),
    "practitioner": gettext_lazy("care professional"),
}


@dataclass
class AccessLine:
    """One access: what the patient reads on one line."""

    event: AuditEvent  # the access's most precise event
    who: str
    what: str
    why: str = ""
    events: list[AuditEvent] = field(default_factory=list)

    @property
    def occurred_at(self) -> datetime:
        return self.event.occurred_at

    @property
    def denied(self) -> bool:
        return self.event.outcome != SUCCESS

    @property
    def kind(self) -> str:
        """read, write, print, export, emergency, share, refusal or other."""
        return _kind(self.event)


@dataclass
class AccessSummary:
    """The report's first lines: the period at a glance."""

    first: datetime | None = None
    last: datetime | None = None
    accesses: int = 0
    people: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    emergencies: list[AccessLine] = field(default_factory=list)
    shares: list[AccessLine] = field(default_factory=list)
    refusals: int = 0


def _opened_to_write(event: AuditEvent) -> bool:
    """The policy allowed a change but nothing was changed by that access (a form shown,
    not sent): the record was opened, not written."""
    return event.action == "patient.write" and "rule" in (event.details or {})


def _kind(event: AuditEvent) -> str:
    action = event.action
    if event.outcome != SUCCESS:
        return "refusal"
    if _opened_to_write(event):
        return "read"
    if action == "break_glass.start":
        return "emergency"
    if action == "share.send":
        return "share"
    if action.endswith(".read") or action == "patient.read":
        return "read"
    if action.endswith(".print"):
        return "print"
    if action == "patient.export":
        return "export"
    if action.startswith(("appointment.", "invoice.", "payment.", "api.", "break_glass.")):
        return "other"
    return "write"


def _precision(event: AuditEvent) -> int:
    """Which event of one access says it best (higher is better)."""
    if event.action in DECISIONS and "rule" in (event.details or {}):
        return 0
    return 1


# Events the patient must read on their own line, whatever else the request did: going
# on despite a safety alert says something a "wrote a prescription" line would hide.
OWN_LINE = {"prescription.override"}


def _same_access(group: list[AuditEvent], event: AuditEvent) -> bool:
    last = group[-1]
    if event.outcome != SUCCESS or last.outcome != SUCCESS or event.actor_id != last.actor_id:
        return False
    if event.action in OWN_LINE or last.action in OWN_LINE:
        return False
    if event.request_id or last.request_id:
        return event.request_id == last.request_id
    # Outside a request only a consultation's vital signs join it: every other entry
    # written by a command or an import keeps its own line.
    return (
        event.action == "observation.create"
        and group[0].action == "encounter.create"
        and event.occurred_at - group[0].occurred_at < SAME_ACCESS
    )


def group_accesses(events: list[AuditEvent]) -> list[list[AuditEvent]]:
    groups: list[list[AuditEvent]] = []
    for event in events:
        if groups and _same_access(groups[-1], event):
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups


def _person_id(target: str) -> int | None:
    kind, _sep, value = target.partition(":")
    return int(value) if kind == "person" and value.isdigit() else None


def _label(code: str) -> str:
    for value, label in SensitivityLabel.choices:
        if value == code:
            return str(label).lower()
    return _("sensitive")


def _where(details: dict[str, Any], key: str) -> str:
    """A practice of the directory, as ``node/practice``: the practice's part."""
    value = str(details.get(key, ""))
    return value.rpartition("/")[2] or _("another practice")


def _what(event: AuditEvent, people: dict[int, Person]) -> str:
    action, details = event.action, event.details if isinstance(event.details, dict) else {}
    kind, _sep, verb = action.rpartition(".")
    person_id = _person_id(event.target)
    person = people.get(person_id) if person_id else None
    named = person.full_name if person else _("someone")
    if action == "patient.read":
        if event.category == "clinical":
            said = _("opened your record")
        elif event.category == "administrative":
            said = _("looked at your administrative file")
        else:
            said = _("looked at your identity and contact details")
        if event.channel in ("api", "fhir"):
            said = _("%(action)s from a software connected to the practice") % {"action": said}
        return said
    if _opened_to_write(event):
        if event.category == "clinical":
            return _("opened your record to write in it")
        if event.category == "identity":
            return _("opened your identity to correct it")
        return _("opened your administrative file to change it")
    if action == "patient.print":
        if details.get("document") == "record_copy":
            return _("printed a full copy of your record")
        return _("printed part of your record")
    if action == "patient.identity_corrected":
        fields = ", ".join(str(field_label(name)) for name in details.get("fields", []))
        return _("corrected your identity: %(fields)s") % {"fields": fields}
    if action == "patient.death_recorded":
        if details.get("withdrawn"):
            return _("withdrew a death recorded by mistake")
        if details.get("corrected"):
            return _("corrected the date of death")
        return _("recorded the death")
    if action == "care_team.add":
        return _("added %(person)s to your care team") % {"person": named}
    if action == "care_team.remove":
        return _("removed %(person)s from your care team") % {"person": named}
    if action == "patient_choice.label_allowed":
        return _("recorded that you allow %(person)s to see your %(label)s entries") % {
            "person": named,
            "label": _label(str(details.get("label", ""))),
        }
    if action == "patient_choice.label_revoked":
        return _("recorded that %(person)s may no longer see your %(label)s entries") % {
            "person": named,
            "label": _label(str(details.get("label", ""))),
        }
    if action == "consent.give":
        return _("recorded your consent to share with %(practice)s") % {
            "practice": _where(details, "to")
        }
    if action == "share.send":
        return _("sent part of your record to %(practice)s, with your consent") % {
            "practice": event.target.rpartition("/")[2] or _("another practice")
        }
    if verb == "create" and kind in ENTRY_ADDED:
        return str(ENTRY_ADDED[kind])
    if verb == "update" and kind in ENTRY_CORRECTED:
        return str(ENTRY_CORRECTED[kind])
    if verb == "entered_in_error":
        return str(ENTRY_REMOVED)
    if action == "access.denied" and details.get("action") == "print":
        return _("was refused printing your record")
    label = ACTIONS.get(action)
    return str(label) if label else _("did something else in your record")


def _why(event: AuditEvent) -> str:
    """The purpose in words; for an emergency or a refusal, the reason given."""
    if event.reason and (event.outcome != SUCCESS or not event.purpose):
        # A refusal's reason is kept in English in the trail: it is the policy's message,
        # said here in the report's language. A person's words are shown as written.
        return _(event.reason)
    purpose = PURPOSES.get(event.purpose)
    if purpose is None and event.category == "clinical":
        purpose = PURPOSES["care"]  # what is written in the record is written for care
    return str(purpose) if purpose else ""


def _who(
    event: AuditEvent,
    people: dict[int, Person],
    roles: dict[int, set[str]],
    practices: dict[int, str],
    home: int,
) -> str:
    """The name and what the person does; the practice too when it is not the one
    printing the report (its name heads the page)."""
    person = people.get(event.actor_id) if event.actor_id else None
    if person is None:
        if event.actor_label in SYSTEM_ACTORS:
            return str(SYSTEM_ACTORS[event.actor_label])
        return event.actor_label if event.actor_label and not event.actor_id else _("Carnet")
    role = PROFESSIONS.get(person.profession)
    if role is None:
        held = roles.get(person.pk, set())
        role = next((ROLES[name] for name in ROLES if name in held), None)
    practice = practices.get(event.practice_id or 0, "") if event.practice_id != home else ""
    if role is None:
        return person.full_name
    if not practice:
        return _("%(name)s, %(role)s") % {"name": person.full_name, "role": role}
    return _("%(name)s, %(role)s (%(practice)s)") % {
        "name": person.full_name,
        "role": role,
        "practice": practice,
    }


@dataclass
class AccessReport:
    lines: list[AccessLine]
    summary: AccessSummary


def report_for(*, patient_id: int, practice_id: int) -> AccessReport:
    """Every access to the patient's record, in the current language. The caller has
    checked that the actor may print it."""
    events = list(events_for_patient(patient_id=patient_id))
    ids = {e.actor_id for e in events if e.actor_id}
    ids |= {pid for e in events if (pid := _person_id(e.target))}
    people = Person.objects.in_bulk(ids)
    practice_ids = {e.practice_id for e in events if e.practice_id}
    roles: dict[int, set[str]] = {}
    for person_id, role in Membership.objects.filter(
        person_id__in=ids, practice_id__in=practice_ids, is_active=True
    ).values_list("person_id", "role"):
        roles.setdefault(person_id, set()).add(role)
    practices = dict(Practice.objects.filter(pk__in=practice_ids).values_list("pk", "name"))
    lines = []
    for group in group_accesses(events):
        main = max(group, key=_precision)  # the first of the most precise
        who = _who(main, people, roles, practices, practice_id)
        lines.append(AccessLine(main, who, _what(main, people), _why(main), group))
    return AccessReport(lines, summarise(lines))


def summarise(lines: list[AccessLine]) -> AccessSummary:
    summary = AccessSummary(accesses=len(lines))
    if lines:
        summary.first, summary.last = lines[0].occurred_at, lines[-1].occurred_at
    people: dict[str, None] = {}
    for line in lines:
        people[line.who] = None
        summary.counts[line.kind] = summary.counts.get(line.kind, 0) + 1
        if line.kind == "emergency":
            summary.emergencies.append(line)
        elif line.kind == "share":
            summary.shares.append(line)
        elif line.kind == "refusal":
            summary.refusals += 1
    summary.people = list(people)
    return summary
