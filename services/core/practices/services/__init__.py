"""Creating practices and their cooperative membership; the practice's settings."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import tenancy
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event
from core.practices.models import CareTeamMode, CooperativeMembership, Practice


@transaction.atomic
def practice_create(
    *,
    slug: str,
    name: str,
    city: str = "",
    postal_code: str = "",
    address: str = "",
    plan: str = CooperativeMembership.Plan.GROUP,
    care_team_mode: str = CareTeamMode.NAMED,
    actor: object = None,
    country: str = "FR",
    phone: str = "",
    shares: int = 1,
) -> Practice:
    """A new practice; its care team is named patient by patient unless said otherwise
    (nothing is widened without the practice choosing it)."""
    if care_team_mode not in CareTeamMode.values:
        raise ValidationError({"care_team_mode": _("Choose one of the two care-team settings.")})
    practice = Practice.objects.create(
        slug=slug,
        name=name,
        city=city,
        postal_code=postal_code,
        address=address,
        country=country,
        phone=phone,
        care_team_mode=care_team_mode,
    )
    CooperativeMembership.objects.create(
        practice=practice,
        plan=plan,
        shares=shares,
        status=CooperativeMembership.Status.ACTIVE,
        joined_on=timezone.localdate(),
    )
    record_event(
        "practice.create",
        actor=actor,
        practice_id=practice.pk,
        target=f"practice:{slug}",
        details={"care_team_mode": care_team_mode},
    )
    return practice


@transaction.atomic
def practice_care_team_mode_set(*, actor: Actor, practice: Practice, mode: str) -> bool:
    """Choose who is in the patients' care teams (``CareTeamMode``): a named team per
    patient, or every clinician of the practice. Only a practice administrator may
    (the policy's ``decide_practice``). Audited with the old and the new setting; the
    next facts of this request already use the new one. Whether anything changed."""
    require_practice(actor, PracticeAction.CHANGE_SETTINGS, practice.pk)
    if mode not in CareTeamMode.values:
        raise ValidationError({"mode": _("Choose one of the two care-team settings.")})
    # Locked: two administrators changing it at once are audited in order.
    current = Practice.objects.select_for_update().get(pk=practice.pk)
    old = current.care_team_mode
    if old == mode:
        return False
    Practice.objects.filter(pk=practice.pk).update(care_team_mode=mode)
    practice.care_team_mode = mode
    tenancy.remember_care_team_mode(practice.pk, mode)
    record_event(
        "practice.care_team_mode_changed",
        actor=actor,
        practice_id=practice.pk,
        target=f"practice:{practice.slug}",
        details={"old": old, "new": mode},
    )
    return True
