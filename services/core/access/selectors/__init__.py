"""Reading the patient's choices for the policy (one query per kind, whatever the size of
the record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from core.access.models import (
    BreakGlass,
    LabelGrant,
    LetterState,
    Restriction,
    SharingConsent,
    SharingRefusal,
)
from core.access.policy import Actor, PracticeAction, decide_practice
from core.access.sharing import ConsentFacts
from core.prepared import Bound, PreparedSQL


@dataclass(frozen=True)
class PatientChoices:
    excluded: frozenset[int] = frozenset()
    entry_exclusions: dict[tuple[str, int], frozenset[int]] = field(default_factory=dict)
    label_grants: frozenset[tuple[str, int]] = frozenset()
    break_glass: frozenset[int] = frozenset()


# The patient's restrictions, label grants and active break-the-glass grants, in one
# statement (this runs on every read of a record).
CHOICES = PreparedSQL(
    "SELECT 'restriction', person_id, entry_type, entry_id FROM access_restriction"
    " WHERE patient_id = %(patient)s AND revoked_at IS NULL"
    " UNION ALL SELECT 'label', person_id, label, NULL FROM access_labelgrant"
    " WHERE patient_id = %(patient)s AND revoked_at IS NULL"
    " UNION ALL SELECT 'glass', person_id, NULL, NULL FROM access_breakglass"
    " WHERE patient_id = %(patient)s AND started_at <= %(now)s AND expires_at > %(now)s"
)


def choices_statement(patient_id: int) -> Bound:
    """The statement reading the patient's choices, to run with others in one round trip;
    its rows go to ``choices_from``."""
    return CHOICES.bind(patient=patient_id, now=timezone.now())


def choices_from(rows: list[tuple[Any, ...]]) -> PatientChoices:
    excluded: set[int] = set()
    per_entry: dict[tuple[str, int], set[int]] = {}
    grants: set[tuple[str, int]] = set()
    glass: set[int] = set()
    for kind, person_id, text, entry_id in rows:
        if kind == "label":
            grants.add((text, person_id))
        elif kind == "glass":
            glass.add(person_id)
        elif text and entry_id is not None:
            per_entry.setdefault((text, entry_id), set()).add(person_id)
        else:
            excluded.add(person_id)
    return PatientChoices(
        excluded=frozenset(excluded),
        entry_exclusions={key: frozenset(value) for key, value in per_entry.items()},
        label_grants=frozenset(grants),
        break_glass=frozenset(glass),
    )


def restrictions_of(patient_id: int) -> QuerySet[Restriction]:
    return (
        Restriction.objects.filter(patient_id=patient_id)
        .select_related("person", "recorded_by")
        .order_by("-recorded_at")
    )


def label_grants_of(patient_id: int) -> QuerySet[LabelGrant]:
    return (
        LabelGrant.objects.filter(patient_id=patient_id).select_related("person").order_by("label")
    )


# An emergency access not reviewed within a week is overdue: the review list shows it
# highlighted until someone reviews it.
REVIEW_WITHIN = timedelta(days=7)


def break_glass_to_review() -> QuerySet[BreakGlass]:
    """The emergency accesses not reviewed yet, oldest first; ``overdue`` on each."""
    overdue = Q(started_at__lt=timezone.now() - REVIEW_WITHIN)
    return (
        BreakGlass.objects.filter(reviewed_at__isnull=True)
        .annotate(overdue=ExpressionWrapper(overdue, output_field=BooleanField()))
        .select_related("person")
        .order_by("started_at")
    )


def break_glass_get(patient_id: int, grant_id: int) -> BreakGlass | None:
    """One emergency access to this patient (None when it is not theirs)."""
    return (
        BreakGlass.objects.filter(pk=grant_id, patient_id=patient_id)
        .select_related("person")
        .first()
    )


def letters_to_hand(actor: Actor, patient_ids: list[int]) -> list[BreakGlass]:
    """The letters about emergency accesses waiting at the desk for these patients, oldest
    first. The reminder is the desk's: nothing for a reader the policy does not let hand
    letters over."""
    if not patient_ids or not decide_practice(
        actor, PracticeAction.HAND_OVER_LETTERS, actor.practice_id or 0
    ):
        return []
    return list(
        BreakGlass.objects.filter(patient_id__in=patient_ids, letter=LetterState.PENDING)
        .select_related("person")
        .order_by("started_at")
    )


def break_glass_of(patient_id: int) -> QuerySet[BreakGlass]:
    return BreakGlass.objects.filter(Q(patient_id=patient_id)).select_related(
        "person", "reviewed_by"
    )


def sharing_facts(patient_id: int) -> tuple[list[ConsentFacts], bool]:
    """The patient's consents and global refusal, for ``core.access.sharing.may_share``."""
    consents = [
        ConsentFacts(
            consent_id=c.pk,
            grantee_node=c.grantee_node,
            grantee_practice=c.grantee_practice,
            grantee_practitioner=c.grantee_practitioner,
            categories=frozenset(c.categories),
            labels=frozenset(c.labels),
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            active=c.status == SharingConsent.Status.ACTIVE,
        )
        for c in SharingConsent.objects.filter(patient_id=patient_id)
    ]
    refused = SharingRefusal.objects.filter(patient_id=patient_id, revoked_at__isnull=True).exists()
    return consents, refused


def consents_of(patient_id: int) -> QuerySet[SharingConsent]:
    return SharingConsent.objects.filter(patient_id=patient_id).order_by("-recorded_at")
