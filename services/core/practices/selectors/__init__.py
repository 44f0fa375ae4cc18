"""Reading practices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

from core import tenancy
from core.practices.models import (
    CareTeamMode,
    CooperativeMembership,
    MembershipApplication,
    Practice,
)
from core.prepared import Prepared

CARE_TEAM_MODE = Prepared(
    lambda practice: Practice.objects.filter(pk=practice).values_list("care_team_mode", flat=True)
)


def practice_by_slug(slug: str) -> Practice | None:
    return Practice.objects.filter(slug=slug, is_active=True).first()


def country_of(practice_id: int) -> str:
    """The practice's country (ISO code, e.g. "FR" or "BE"): it decides how it bills."""
    country = Practice.objects.filter(pk=practice_id).values_list("country", flat=True).first()
    return str(country or "FR").upper()


def care_team_mode_of(practice_id: int) -> str:
    """The practice's care-team setting (``CareTeamMode``).

    Entering a practice reads the practice row and keeps the setting with the tenant
    (``tenancy.activate_then``), so on pages and in the API this costs no query. Other
    callers (commands, imports, jobs) read it once per transaction and tenant."""
    tenant = tenancy.current()
    if tenant is not None and tenant.practice_id == practice_id and tenant.care_team_mode:
        return tenant.care_team_mode
    mode = CARE_TEAM_MODE.first(practice=practice_id) or CareTeamMode.NAMED
    tenancy.remember_care_team_mode(practice_id, mode)
    return str(mode)


def practice_team_of(practice_id: int) -> bool:
    """Is every practitioner of the practice in every patient's care team?"""
    return care_team_mode_of(practice_id) == CareTeamMode.PRACTICE


@dataclass(frozen=True)
class MemberPractice:
    """A member practice as the cooperative's administrators see it: who, where, on which
    plan and with how many shares. Nothing about its patients, not even how many."""

    practice_id: int
    slug: str
    name: str
    city: str
    postal_code: str
    node: str
    plan: str
    plan_label: str
    status: str
    status_label: str
    shares: int
    joined_on: date | None
    left_on: date | None


def cooperative_members() -> list[MemberPractice]:
    """Every practice of this node with its membership of the cooperative, by name (one
    query; ``practices_cooperativemembership`` is readable without a practice context,
    see core/practices/apps.py). The callers check the policy first
    (``core.access.services.require_cooperative``)."""
    node = str(settings.CARNET_NODE_NAME)
    rows = CooperativeMembership.objects.select_related("practice").order_by(
        "practice__name", "practice__pk"
    )
    return [
        MemberPractice(
            practice_id=row.practice_id,
            slug=row.practice.slug,
            name=row.practice.name,
            city=row.practice.city,
            postal_code=row.practice.postal_code,
            node=node,
            plan=row.plan,
            plan_label=str(row.get_plan_display()),
            status=row.status,
            status_label=str(row.get_status_display()),
            shares=row.shares,
            joined_on=row.joined_on,
            left_on=row.left_on,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CooperativeSummary:
    """Counts over the member practices, for the foot of the list."""

    practices: int
    active: int
    shares: int  # held by the practices that have not left


def cooperative_summary(members: list[MemberPractice]) -> CooperativeSummary:
    return CooperativeSummary(
        practices=len(members),
        active=sum(1 for m in members if m.status == CooperativeMembership.Status.ACTIVE),
        shares=sum(m.shares for m in members if m.status != CooperativeMembership.Status.LEFT),
    )


def applications() -> list[MembershipApplication]:
    """Every application to join, pending ones first, newest first (the callers check
    the policy first: ``CooperativeAction.REVIEW_APPLICATIONS``)."""
    rows = MembershipApplication.objects.select_related("practice").prefetch_related(
        "practitioners"
    )
    pending = MembershipApplication.Status.PENDING
    return sorted(rows, key=lambda a: (a.status != pending, -a.submitted_at.timestamp()))


def application_get(application_id: int) -> MembershipApplication | None:
    return (
        MembershipApplication.objects.select_related("practice", "decided_by")
        .prefetch_related("practitioners")
        .filter(pk=application_id)
        .first()
    )


def membership_of(practice_id: int) -> CooperativeMembership | None:
    """The practice's membership of the cooperative: plan, status, shares."""
    return (
        CooperativeMembership.objects.select_related("practice")
        .filter(practice_id=practice_id)
        .first()
    )
