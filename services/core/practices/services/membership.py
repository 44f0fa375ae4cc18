"""A member practice's shares (parts sociales) paid up, recorded by a cooperative
administrator when the money arrived."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.access.policy import Actor, CooperativeAction
from core.access.services import require_cooperative
from core.audit.services import record_event
from core.practices.models import CooperativeMembership


@transaction.atomic
def shares_paid_set(*, actor: Actor, practice_id: int, shares_paid: int) -> bool:
    """How many of the practice's subscribed shares are paid up (never more than it
    subscribed). Audited with the old and the new count; whether anything changed."""
    require_cooperative(actor, CooperativeAction.MANAGE_DUES, target=f"practice:{practice_id}")
    membership = (
        CooperativeMembership.objects.select_for_update().filter(practice_id=practice_id).first()
    )
    if membership is None:
        raise ValidationError(_("No such member practice."))
    if not 0 <= shares_paid <= membership.shares:
        raise ValidationError(
            {
                "shares_paid": _("Between 0 and the %(n)s shares subscribed.")
                % {"n": membership.shares}
            }
        )
    old = membership.shares_paid
    if old == shares_paid:
        return False
    membership.shares_paid = shares_paid
    membership.save(update_fields=["shares_paid"])
    for chain in (None, practice_id):
        record_event(
            "cooperative.shares_paid.set",
            actor=actor,
            practice_id=chain,
            target=f"practice:{practice_id}",
            details={"old": old, "new": shares_paid},
        )
    return True
