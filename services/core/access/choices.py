"""Recording the patient's choices (usually from a signed paper form) and break-the-glass.

Every change is audited on the patient. The person a restriction is about can never be
the one who lifts it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.models import (
    BreakGlass,
    LabelGrant,
    LetterState,
    Restriction,
    ShareCategory,
    SharingConsent,
    SharingRefusal,
)
from core.access.policy import Actor, PracticeAction, decide_practice
from core.access.services import AccessDenied
from core.audit.services import Outcome, record_event

BREAK_GLASS_MAX_MINUTES = 240


def _require_staff(actor: Actor) -> int:
    """Return the actor's practice; refuse anyone but its practitioners and secretaries
    (the policy's ``RECORD_PATIENT_CHOICES``)."""
    if actor.practice_id is None or not decide_practice(
        actor, PracticeAction.RECORD_PATIENT_CHOICES, actor.practice_id
    ):
        raise PermissionDenied(_("Only the practice's staff record a patient's choices."))
    return actor.practice_id


def _require_person(person_id: int) -> None:
    """An unknown person id would be caught only by the foreign key, checked when the
    request commits: a server error instead of a clear refusal."""
    from core.accounts.models import Person

    if not Person.objects.filter(pk=person_id).exists():
        raise ValidationError({"person": _("No such person.")})


def _refused(actor: Actor, patient_id: int, reason: str) -> None:
    """A refusal about a patient is audited like the policy's own."""
    record_event(
        "access.denied",
        outcome=Outcome.DENIED,
        actor=actor,
        patient_id=patient_id,
        reason=reason,
    )


@transaction.atomic
def restriction_add(
    *,
    actor: Actor,
    patient_id: int,
    person_id: int,
    source: str,
    reason: str = "",
    entry_type: str = "",
    entry_id: int | None = None,
) -> Restriction:
    practice_id = _require_staff(actor)
    if not source.strip():
        raise ValidationError({"source": _("Say how the patient asked (e.g. signed form no.).")})
    _require_person(person_id)
    restriction = Restriction.objects.create(
        practice_id=practice_id,
        patient_id=patient_id,
        person_id=person_id,
        entry_type=entry_type,
        entry_id=entry_id,
        source=source,
        reason=reason,
        recorded_by_id=actor.person_id,
    )
    record_event(
        "patient_choice.exclude",
        actor=actor,
        patient_id=patient_id,
        target=f"person:{person_id}" + (f" {entry_type}:{entry_id}" if entry_type else ""),
        reason=reason,
        details={"source": source},
    )
    return restriction


@transaction.atomic
def restriction_revoke(*, actor: Actor, restriction: Restriction) -> None:
    _require_staff(actor)
    if restriction.person_id == actor.person_id:
        _refused(actor, restriction.patient_id, "a person never lifts an exclusion about them")
        raise PermissionDenied(_("You cannot lift a restriction that concerns you."))
    if restriction.revoked_at is None:
        restriction.revoked_at = timezone.now()
        restriction.revoked_by_id = actor.person_id
        restriction.save(update_fields=["revoked_at", "revoked_by"])
    record_event(
        "patient_choice.exclusion_lifted",
        actor=actor,
        patient_id=restriction.patient_id,
        target=f"person:{restriction.person_id}",
    )


@transaction.atomic
def label_grant_add(
    *, actor: Actor, patient_id: int, label: str, person_id: int, source: str
) -> LabelGrant:
    practice_id = _require_staff(actor)
    _require_person(person_id)
    grant = LabelGrant.objects.create(
        practice_id=practice_id,
        patient_id=patient_id,
        label=label,
        person_id=person_id,
        source=source,
        recorded_by_id=actor.person_id,
    )
    record_event(
        "patient_choice.label_allowed",
        actor=actor,
        patient_id=patient_id,
        target=f"person:{person_id}",
        details={"label": label, "source": source},
    )
    return grant


@transaction.atomic
def label_grant_revoke(*, actor: Actor, grant: LabelGrant, source: str = "") -> LabelGrant:
    """The patient withdraws a permission to see a sensitive label. The policy reads the
    grants afresh on every request: the next request of that person is refused those
    entries. Withdrawing twice changes nothing and is recorded once."""
    _require_staff(actor)
    locked = LabelGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record_event(
        "patient_choice.label_revoked",
        actor=actor,
        patient_id=locked.patient_id,
        target=f"person:{locked.person_id}",
        details={"label": locked.label, "source": source[:200]},
    )
    return locked


@transaction.atomic
def break_glass_start(
    *, actor: Actor, patient_id: int, reason: str, minutes: int = BREAK_GLASS_MAX_MINUTES
) -> BreakGlass:
    """Open emergency access for one patient. The policy still refuses it to a person the
    patient excluded, and never unlocks sensitive labels."""
    if not actor.practice_id or not decide_practice(
        actor, PracticeAction.OPEN_EMERGENCY_ACCESS, actor.practice_id
    ):
        _refused(actor, patient_id, "only practitioners use emergency access")
        raise PermissionDenied(_("Only practitioners may use emergency access."))
    if len(reason.strip()) < 10:
        raise ValidationError({"reason": _("State the reason for the emergency access.")})
    if not 1 <= minutes <= BREAK_GLASS_MAX_MINUTES:
        raise ValidationError({"minutes": _("Emergency access lasts at most four hours.")})
    now = timezone.now()
    grant = BreakGlass.objects.create(
        practice_id=actor.practice_id,
        patient_id=patient_id,
        person_id=actor.person_id,
        reason=reason.strip(),
        started_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    record_event(
        "break_glass.start",
        actor=actor,
        patient_id=patient_id,
        reason=grant.reason,
        details={"expires_at": grant.expires_at.isoformat(), "review": "pending"},
    )
    return grant


@transaction.atomic
def break_glass_review(*, actor: Actor, grant: BreakGlass, note: str) -> None:
    may_review = decide_practice(actor, PracticeAction.REVIEW_EMERGENCY_ACCESS, grant.practice_id)
    if not may_review or grant.person_id == actor.person_id:
        raise PermissionDenied(_("Another person, a practice administrator, reviews it."))
    grant.reviewed_at = timezone.now()
    grant.reviewed_by_id = actor.person_id
    grant.review_note = note
    grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    record_event(
        "break_glass.review",
        actor=actor,
        patient_id=grant.patient_id,
        target=f"break_glass:{grant.pk}",
        reason=note,
    )


@transaction.atomic
def break_glass_letter_done(*, actor: Actor, grant: BreakGlass, how: str) -> BreakGlass:
    """The desk handed the letter about an emergency access to the patient, or posted
    it: the reminder stops. Only the desk says so (the policy's ``HAND_OVER_LETTERS``)."""
    decision = decide_practice(actor, PracticeAction.HAND_OVER_LETTERS, grant.practice_id)
    if not decision:
        _refused(actor, grant.patient_id, "only the desk hands over or posts a patient's letter")
        raise AccessDenied(decision)
    if how not in (LetterState.HANDED, LetterState.POSTED):
        raise ValidationError({"how": _("Say whether the letter was handed over or posted.")})
    if grant.letter != LetterState.PENDING:
        raise ValidationError({"how": _("This letter is already handed over or posted.")})
    grant.letter = how
    grant.letter_at = timezone.now()
    grant.letter_by_id = actor.person_id
    grant.save(update_fields=["letter", "letter_at", "letter_by"])
    record_event(
        f"break_glass.letter_{how}",
        actor=actor,
        patient_id=grant.patient_id,
        target=f"break_glass:{grant.pk}",
    )
    return grant


# --- sharing consents -------------------------------------------------------------------


@transaction.atomic
def consent_give(
    *,
    actor: Actor,
    patient_id: int,
    grantee_node: str,
    grantee_practice: str,
    categories: list[str],
    source: str,
    valid_from: date,
    valid_until: date | None = None,
    grantee_practitioner: str = "",
    labels: list[str] | None = None,
    purpose: str = "care",
) -> SharingConsent:
    """Record the patient's consent (usually a signed paper form, witnessed by the actor)."""
    practice_id = _require_staff(actor)
    unknown = set(categories) - set(ShareCategory.values)
    if not categories or unknown:
        raise ValidationError({"categories": _("Choose what the patient agrees to share.")})
    if not source.strip():
        raise ValidationError(
            {"source": _("Say how the patient consented (e.g. signed form no.).")}
        )
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end is before the start.")})
    consent = SharingConsent.objects.create(
        practice_id=practice_id,
        patient_id=patient_id,
        grantee_node=grantee_node.strip(),
        grantee_practice=grantee_practice.strip(),
        grantee_practitioner=grantee_practitioner.strip(),
        categories=sorted(set(categories)),
        labels=sorted(set(labels or [])),
        purpose=purpose,
        valid_from=valid_from,
        valid_until=valid_until,
        source=source.strip(),
        witness_id=actor.person_id,
    )
    record_event(
        "consent.give",
        actor=actor,
        patient_id=patient_id,
        target=f"consent:{consent.pk}",
        details={
            "to": f"{consent.grantee_node}/{consent.grantee_practice}",
            "categories": consent.categories,
            "labels": consent.labels,
            "source": source,
        },
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: Actor, consent: SharingConsent) -> SharingConsent:
    """Revocation takes effect on the next request: the decision reads the status."""
    _require_staff(actor)
    if consent.status == SharingConsent.Status.ACTIVE:
        consent.status = SharingConsent.Status.REVOKED
        consent.revoked_at = timezone.now()
        consent.revoked_by_id = actor.person_id
        consent.save(update_fields=["status", "revoked_at", "revoked_by"])
    record_event(
        "consent.revoke", actor=actor, patient_id=consent.patient_id, target=f"consent:{consent.pk}"
    )
    return consent


@transaction.atomic
def sharing_refuse(*, actor: Actor, patient_id: int, source: str) -> SharingRefusal:
    practice_id = _require_staff(actor)
    refusal = SharingRefusal.objects.create(
        practice_id=practice_id,
        patient_id=patient_id,
        source=source,
        recorded_by_id=actor.person_id,
    )
    record_event(
        "consent.refuse_all", actor=actor, patient_id=patient_id, details={"source": source}
    )
    return refusal


@transaction.atomic
def sharing_refusal_lift(*, actor: Actor, patient_id: int) -> int:
    _require_staff(actor)
    lifted = SharingRefusal.objects.filter(patient_id=patient_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record_event("consent.refusal_lifted", actor=actor, patient_id=patient_id)
    return lifted
