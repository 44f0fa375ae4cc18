"""Documentation is care work: the one service that records acts of documentation.

The server opens an act when it hands out a form or an API draft (``act_open``: one row,
bound to the practitioner, the practice, the kind and the patient, whose random token the
form carries back) and closes it when the entry is saved (``act_record``, in the save's
transaction: the opening is consumed, so a token counts once, and a token of another
person, kind or patient counts nothing). The measured time is therefore what the server
saw between the two moments; a client cannot say when it opened anything.

Idle time: each act counts at most ``MAX_ACT[kind]`` (one hour for a consultation note,
thirty minutes for anything else); the rest is taken as a form left open and not counted,
and the act is marked ``capped``. A time an API client declares is kept in
``declared_seconds`` and never added to the measured time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from django.db import transaction
from django.utils import timezone

from core.access.policy import Actor, CareTimeView, Decision, decide_care_time
from core.access.services import AccessDenied
from core.audit.services import Outcome, record_event
from records.models import (
    ActKind,
    CareTimeSharing,
    DocumentationAct,
    DocumentationOpening,
    Encounter,
)

# A GP consultation lasts about twenty minutes; a note still open after an hour, or a
# letter after half an hour, was left open: the time past the bound is not counted.
MAX_ACT = {kind: timedelta(minutes=30) for kind in ActKind.values}
MAX_ACT[ActKind.CONSULTATION] = timedelta(hours=1)
# Openings never saved (a form closed without saving) are swept after a day.
OPENING_LIFETIME = timedelta(days=1)
# An API client's declared time beyond a working day is a mistake, not a declaration.
MAX_DECLARED_SECONDS = 12 * 3600


def is_timed(actor: Actor) -> bool:
    """Only practitioners' documentation is timed: asked of the policy (their own)."""
    return bool(
        actor.practice_id is not None
        and decide_care_time(actor, CareTimeView.OWN, actor.practice_id, actor.person_id)
    )


def act_open(
    *, actor: Actor, kind: str, patient_id: int | None = None, now: datetime | None = None
) -> str:
    """The server hands out a form or draft: remember when, return its token ("" when
    the actor's documentation is not timed)."""
    if actor.practice_id is None or not is_timed(actor) or kind not in ActKind.values:
        return ""
    now = now or timezone.now()
    DocumentationOpening.objects.filter(
        practitioner_id=actor.person_id, opened_at__lt=now - OPENING_LIFETIME
    ).delete()
    token = secrets.token_urlsafe(24)
    DocumentationOpening.objects.create(
        token=token,
        practice_id=actor.practice_id,
        practitioner_id=actor.person_id,
        patient_id=patient_id,
        kind=kind,
        opened_at=now,
    )
    return token


def opening_time(token: str) -> datetime | None:
    found = DocumentationOpening.objects.filter(token=token[:64]).first()
    return found.opened_at if found else None


def form_draft(
    *, actor: Actor, posted: str | None, kind: str, patient_id: int | None = None
) -> str:
    """The token a form page carries: the one posted back (a form shown again with its
    errors keeps its first opening), or a new opening when the page is first served."""
    if posted is not None:
        return posted[:64]
    return act_open(actor=actor, kind=kind, patient_id=patient_id)


def measured(kind: str, opened_at: datetime, saved_at: datetime) -> tuple[int, bool]:
    """Seconds from opening to saving, capped at the kind's bound: (seconds, capped)."""
    seconds = max((saved_at - opened_at).total_seconds(), 0.0)
    bound = MAX_ACT[kind].total_seconds()
    return int(min(seconds, bound)), seconds > bound


@transaction.atomic(savepoint=False)  # in the save's transaction: no savepoint round trips
class Saved(Protocol):
    pk: int


SavedEntry = TypeVar("SavedEntry", bound=Saved)


def act_with_entry(
    *, actor: Actor, kind: str, token: str, patient_id: int, write: Callable[[], SavedEntry]
) -> SavedEntry:
    """Save an entry (``write``, a records service) and close its act, in one
    transaction: the act names the entry, and a save refused or invalid records no act.
    The pages' way to save a timed entry (the API's: ``care_time_api_acts``)."""
    with transaction.atomic():
        entry = write()
        act_record(actor=actor, kind=kind, token=token, patient_id=patient_id, entry_id=entry.pk)
    return entry


def act_record(
    *,
    actor: Actor,
    kind: str,
    token: str = "",
    patient_id: int | None = None,
    encounter: Encounter | None = None,
    entry_id: int | None = None,
    declared_seconds: float | None = None,
    source: str = DocumentationAct.Source.FORM,
    now: datetime | None = None,
) -> DocumentationAct | None:
    """The entry is saved: close its act. Without a valid opening (none, consumed,
    expired, another person's, kind's or patient's) the act is recorded unmeasured."""
    if actor.practice_id is None or not is_timed(actor) or kind not in ActKind.values:
        return None
    now = now or timezone.now()
    opening = (
        DocumentationOpening.objects.select_for_update()
        .filter(
            token=(token or "")[:64],
            practitioner_id=actor.person_id,
            practice_id=actor.practice_id,
            kind=kind,
            patient__isnull=patient_id is None,
            opened_at__gte=now - OPENING_LIFETIME,
        )
        .filter(**({"patient_id": patient_id} if patient_id is not None else {}))
        .first()
        if token
        else None
    )
    seconds: int | None = None
    capped = False
    opened_at = None
    if opening is not None:
        opened_at = opening.opened_at
        seconds, capped = measured(kind, opening.opened_at, now)
        opening.delete()
    declared = None
    if declared_seconds is not None:
        declared = int(min(max(declared_seconds, 0), MAX_DECLARED_SECONDS))
    return DocumentationAct.objects.create(
        practice_id=actor.practice_id,
        practitioner_id=actor.person_id,
        patient_id=patient_id,
        kind=kind,
        source=source,
        opened_at=opened_at,
        saved_at=now,
        measured_seconds=seconds,
        capped=capped,
        declared_seconds=declared,
        encounter=encounter,
        entry_id=entry_id if entry_id is not None else getattr(encounter, "pk", None),
    )


def act_link_visit(
    *, encounter_id: int, appointment_id: int | None, seen_at: datetime | None
) -> int:
    """The agenda says which appointment a consultation closed and when the patient was
    called in: the report sets the visit beside the note. Returns the acts linked."""
    return DocumentationAct.objects.filter(
        encounter_id=encounter_id, kind=ActKind.CONSULTATION
    ).update(appointment_id=appointment_id, visit_started_at=seen_at)


def require_care_time(
    actor: Actor, view: CareTimeView, practice_id: int, subject_id: int | None = None
) -> Decision:
    """Decide who reads whose figures (the subject's sharing switch is one fact); a
    refusal is audited and raised (403)."""
    shared = bool(
        subject_id is not None
        and CareTimeSharing.objects.filter(
            practice_id=practice_id, practitioner_id=subject_id, shared=True
        ).exists()
    )
    decision = decide_care_time(actor, view, practice_id, subject_id, shared=shared)
    if not decision.allowed:
        record_event(
            "access.denied",
            outcome=Outcome.DENIED,
            actor=actor,
            practice_id=actor.practice_id,
            reason=str(decision.rule),
            target=f"care_time:{subject_id or practice_id}",
            details={"rule": decision.rule, "view": view.value},
        )
        raise AccessDenied(decision)
    return decision


@transaction.atomic
def care_time_share(*, actor: Actor, shared: bool) -> CareTimeSharing:
    """A practitioner shows (or stops showing) their figures to the practice's other
    practitioners."""
    assert actor.practice_id is not None
    require_care_time(actor, CareTimeView.OWN, actor.practice_id, actor.person_id)
    row, _created = CareTimeSharing.objects.update_or_create(
        practice_id=actor.practice_id,
        practitioner_id=actor.person_id,
        defaults={"shared": shared},
    )
    record_event(
        "care_time.share" if shared else "care_time.unshare",
        actor=actor,
        target=f"person:{actor.person_id}",
    )
    return row


__all__ = [
    "MAX_ACT",
    "ActKind",
    "act_link_visit",
    "act_open",
    "act_record",
    "care_time_share",
    "form_draft",
    "is_timed",
    "measured",
    "opening_time",
    "require_care_time",
]
