"""Reading the patient's choices for the policy (one query per kind, whatever the size of
the record)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.access.models import BreakGlass, LabelGrant, Restriction, SharingConsent, SharingRefusal
from core.access.sharing import ConsentFacts


@dataclass(frozen=True)
class PatientChoices:
    excluded: frozenset[int] = frozenset()
    entry_exclusions: dict[tuple[str, int], frozenset[int]] = field(default_factory=dict)
    label_grants: frozenset[tuple[str, int]] = frozenset()
    break_glass: frozenset[int] = frozenset()


def patient_choices(patient_id: int) -> PatientChoices:
    excluded: set[int] = set()
    per_entry: dict[tuple[str, int], set[int]] = {}
    rows = Restriction.objects.filter(patient_id=patient_id, revoked_at__isnull=True).values_list(
        "person_id", "entry_type", "entry_id"
    )
    for person_id, entry_type, entry_id in rows:
        if entry_type and entry_id is not None:
            per_entry.setdefault((entry_type, entry_id), set()).add(person_id)
        else:
            excluded.add(person_id)
    grants = LabelGrant.objects.filter(patient_id=patient_id, revoked_at__isnull=True)
    now = timezone.now()
    glass = BreakGlass.objects.filter(
        patient_id=patient_id, started_at__lte=now, expires_at__gt=now
    )
    return PatientChoices(
        excluded=frozenset(excluded),
        entry_exclusions={key: frozenset(value) for key, value in per_entry.items()},
        label_grants=frozenset(grants.values_list("label", "person_id")),
        break_glass=frozenset(glass.values_list("person_id", flat=True)),
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


def break_glass_to_review() -> QuerySet[BreakGlass]:
    return (
        BreakGlass.objects.filter(reviewed_at__isnull=True)
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
