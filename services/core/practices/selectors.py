"""Reading practices."""

from __future__ import annotations

from core import tenancy
from core.practices.models import CareTeamMode, Practice
from core.prepared import Prepared

CARE_TEAM_MODE = Prepared(
    lambda practice: Practice.objects.filter(pk=practice).values_list("care_team_mode", flat=True)
)


def practice_by_slug(slug: str) -> Practice | None:
    return Practice.objects.filter(slug=slug, is_active=True).first()


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
