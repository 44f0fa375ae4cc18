"""A practice runs its own staff: invitations, roles, deactivation, second-factor reset,
unlocking. Only the practice's administrators may (the access policy's
``PracticeAction.MANAGE_STAFF``), and every change is audited on the practice's chain.

An invited person exists at once (their username is taken, their roles are set), with no
usable password: they set it, and enroll their second factor, from the invitation link.
Nothing about a person is ever deleted: a deactivated person keeps their history and
their authorship, and cannot log in or use an API token any more.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import tenancy
from core.access.policy import Actor, CooperativeAction, PracticeAction
from core.access.services import require_cooperative, require_practice
from core.accounts import throttle
from core.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Person,
    PracticeRow,
    Role,
)
from core.accounts.services.login import confirmed_device, enrollment_device
from core.accounts.validators import validate_am_number, validate_inami, validate_rpps
from core.audit.services import record_event

STAFF_ROLES = {role.value for role in Role}
# Typed on every login, on any keyboard: plain letters, digits and a few separators.
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,149}")


@dataclass(frozen=True)
class IssuedInvitation:
    """An invitation and its link's secret, which is shown once and never stored."""

    invitation: Invitation
    secret: str


def _require(actor: Actor, person: Person | None = None) -> None:
    require_practice(
        actor,
        PracticeAction.MANAGE_STAFF,
        actor.practice_id or 0,
        target=f"person:{person.pk}" if person else "staff",
    )


def _roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    if not chosen:
        raise ValidationError({"roles": _("Choose at least one role.")})
    unknown = set(chosen) - STAFF_ROLES
    if unknown:
        raise ValidationError({"roles": _("Unknown role.")})
    return chosen


def _issue(*, actor: Actor, practice: PracticeRow, person: Person) -> IssuedInvitation:
    """A new link for the person; any earlier link of theirs stops working."""
    now = timezone.now()
    Invitation.objects.filter(person=person, used_at=None, revoked_at=None).update(revoked_at=now)
    secret = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        practice_id=practice.pk,
        person=person,
        created_by_id=actor.person_id,
        secret_hash=Invitation.hash_secret(secret),
        expires_at=now + timedelta(hours=Invitation.VALID_HOURS),
    )
    return IssuedInvitation(invitation, secret)


@transaction.atomic
def staff_invite(
    *,
    actor: Actor,
    practice: PracticeRow,
    full_name: str,
    username: str,
    roles: Iterable[str],
    profession: str = "",
    rpps: str = "",
    email: str = "",
    am_number: str = "",
    inami: str = "",
) -> IssuedInvitation:
    """Add a practitioner, a secretary or an administrator to the practice, and make the
    link by which they will set their password and second factor."""
    _require(actor)
    chosen = _roles(roles)
    username = throttle.fold(username)
    errors: dict[str, str] = {}
    if not full_name.strip():
        errors["full_name"] = _("Give the person's full name.")
    if not username:
        errors["username"] = _("Choose a username.")
    elif not USERNAME.fullmatch(username):
        errors["username"] = _(
            "A username has only lowercase letters without accents, digits, dots, hyphens "
            "and underscores (e.g. marie.dupont)."
        )
    elif Person.objects.filter(username=username).exists():
        errors["username"] = _("This username is already taken: choose another one.")
    rpps = "".join(rpps.split())
    inami = "".join(char for char in inami if char.isdigit() or char.isalpha())
    belgian = str(getattr(practice, "country", "FR")).upper() == "BE"
    if Role.PRACTITIONER in chosen:
        if not profession:
            errors["profession"] = _("A practitioner needs a profession.")
        # A Belgian practitioner has no RPPS: the INAMI number identifies them.
        if belgian and not inami:
            errors["inami"] = _("A practitioner needs their INAMI number.")
        elif not belgian and not rpps:
            errors["rpps"] = _("A practitioner needs their RPPS number.")
    if inami:
        try:
            validate_inami(inami)
        except ValidationError as error:
            errors["inami"] = error.messages[0]
    if rpps:
        try:
            validate_rpps(rpps)
        except ValidationError as error:
            errors["rpps"] = error.messages[0]
    am_number = "".join(am_number.split())
    if am_number:
        try:
            validate_am_number(am_number)
        except ValidationError as error:
            errors["am_number"] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    person = Person(
        username=username,
        full_name=full_name.strip(),
        email=email.strip(),
        profession=profession if Role.PRACTITIONER in chosen else "",
        rpps=rpps,
        am_number=am_number,
        inami=inami,
    )
    person.set_unusable_password()
    person.full_clean(exclude=["password"])
    person.save()
    for role in chosen:
        Membership.objects.create(practice_id=practice.pk, person=person, role=role)
    issued = _issue(actor=actor, practice=practice, person=person)
    record_event(
        "staff.invite",
        actor=actor,
        target=f"person:{person.pk}",
        details={"roles": chosen, "username": username},
    )
    return issued


def _member(practice: PracticeRow, person_id: int) -> Person:
    """A person who holds (or held) a role in this practice, or a 'not found'."""
    person = (
        Person.objects.filter(pk=person_id, memberships__practice_id=practice.pk).distinct().first()
    )
    if person is None:
        raise Person.DoesNotExist(_("No such member of the practice."))
    return person


@transaction.atomic
def staff_reinvite(*, actor: Actor, practice: PracticeRow, person_id: int) -> IssuedInvitation:
    """A new link for someone whose link expired or was lost (the old one stops working)."""
    person = _member(practice, person_id)
    _require(actor, person)
    if person.has_usable_password() and confirmed_device(person) is not None:
        raise ValidationError(_("This person has already set their password and second factor."))
    issued = _issue(actor=actor, practice=practice, person=person)
    record_event("staff.reinvite", actor=actor, target=f"person:{person.pk}")
    return issued


@transaction.atomic
def first_admin_invite(*, actor: Actor, practice: PracticeRow, person_id: int) -> IssuedInvitation:
    """The invitation of a new member practice's first administrator, made by the
    cooperative administrator who approved its application: nobody in the practice can
    make it yet (``staff_invite`` is for the practice's own administrators). The same
    link and sheet as any invitation; only a person who never set a password gets one."""
    return _first_admin_link(
        actor=actor, practice=practice, person_id=person_id, action="staff.invite_first_admin"
    )


@transaction.atomic
def first_admin_reinvite(
    *, actor: Actor, practice: PracticeRow, person_id: int
) -> IssuedInvitation:
    """A new link for a new member practice's first administrator who lost theirs or let
    it expire, made by a cooperative administrator (nobody in the practice can yet): the
    previous link stops working. Refused once they have set their password."""
    return _first_admin_link(
        actor=actor, practice=practice, person_id=person_id, action="staff.reinvite_first_admin"
    )


def _first_admin_link(
    *, actor: Actor, practice: PracticeRow, person_id: int, action: str
) -> IssuedInvitation:
    require_cooperative(
        actor, CooperativeAction.REVIEW_APPLICATIONS, target=f"practice:{practice.pk}"
    )
    with tenancy.practice_context(practice.pk, actor.person_id):
        person = _member(practice, person_id)
        if person.has_usable_password():
            raise ValidationError(_("This person has already set their password."))
        issued = _issue(actor=actor, practice=practice, person=person)
        record_event(action, actor=actor, practice_id=practice.pk, target=f"person:{person.pk}")
    return issued


def invitation_open(secret: str) -> Invitation:
    """The usable invitation for this link; a clear error for a wrong, used or old one."""
    invitation = (
        Invitation.objects.select_related("person", "practice")
        .filter(secret_hash=Invitation.hash_secret(secret[:200]))
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise ValidationError(
            _("This invitation link is not valid (it may have been replaced by a newer one)."),
            code="unknown",
        )
    if invitation.used_at is not None:
        raise ValidationError(
            _("This invitation has already been used. Log in with your username."),
            code="used",
        )
    if invitation.expires_at <= timezone.now():
        raise ValidationError(
            _("This invitation has expired. Ask your practice administrator for a new one."),
            code="expired",
        )
    if not invitation.person.is_active:
        raise ValidationError(_("This account is disabled."), code="inactive")
    return invitation


def invitation_device(invitation: Invitation) -> TOTPDevice:
    return enrollment_device(invitation.person)


@transaction.atomic
def invitation_accept(*, secret: str, password: str, password_again: str, code: str) -> Person:
    """The invited person sets their password and confirms their second factor with the
    first code their app shows. Either both are kept or neither is."""
    invitation = invitation_open(secret)
    # Lock the invitation so that two submissions cannot both use it.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.used_at is not None:
        raise ValidationError(_("This invitation has already been used."), code="used")
    person = invitation.person
    if password != password_again:
        raise ValidationError({"password_again": _("The two passwords differ.")})
    try:
        validate_password(password, person)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    device = enrollment_device(person)
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6 and device.verify_token(code)):
        raise ValidationError(
            {"code": _("Wrong code. Check your authenticator app's clock, then try again.")}
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=person).exclude(pk=device.pk).delete()
    person.set_password(password)
    person.failed_logins = 0
    person.locked_until = None
    person.save(update_fields=["password", "failed_logins", "locked_until"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    record_event(
        "staff.invitation_accepted",
        actor=person,
        practice_id=invitation.practice_id,
        target=f"person:{person.pk}",
    )
    record_event(
        "second_factor.enrolled",
        actor=person,
        practice_id=invitation.practice_id,
        target=f"totp:{device.pk}",
    )
    return person


def _admins_left(practice: PracticeRow, without: Person) -> bool:
    return (
        Membership.objects.filter(
            practice_id=practice.pk,
            role=Role.PRACTICE_ADMIN,
            is_active=True,
            person__is_active=True,
        )
        .exclude(person=without)
        .exists()
    )


@transaction.atomic
def staff_set_roles(
    *, actor: Actor, practice: PracticeRow, person_id: int, roles: Iterable[str]
) -> list[str]:
    """Give the person exactly these roles in the practice. The practice always keeps at
    least one active administrator."""
    person = _member(practice, person_id)
    _require(actor, person)
    chosen = _roles(roles)
    if not person.is_active:
        # Coming back is its own, audited step (``staff_reactivate``).
        raise ValidationError(
            {"roles": _("This person is deactivated: reactivate them with their roles.")}
        )
    current = {m.role: m for m in Membership.objects.filter(practice_id=practice.pk, person=person)}
    before = sorted(role for role, m in current.items() if m.is_active)
    dropping_admin = Role.PRACTICE_ADMIN in before and Role.PRACTICE_ADMIN not in chosen
    if dropping_admin and not _admins_left(practice, person):
        raise ValidationError({"roles": _("The practice must keep at least one administrator.")})
    if Role.PRACTITIONER in chosen and not person.profession:
        raise ValidationError({"roles": _("A practitioner needs a profession.")})
    for role in STAFF_ROLES:
        membership = current.get(role)
        if role in chosen and membership is None:
            Membership.objects.create(practice_id=practice.pk, person=person, role=role)
        elif membership is not None and membership.is_active != (role in chosen):
            membership.is_active = role in chosen
            membership.save(update_fields=["is_active"])
    if before != chosen:
        record_event(
            "staff.roles_changed",
            actor=actor,
            target=f"person:{person.pk}",
            details={"before": before, "after": chosen},
        )
    return chosen


@transaction.atomic
def staff_deactivate(*, actor: Actor, practice: PracticeRow, person_id: int, reason: str) -> None:
    """The person leaves the practice: their roles here end, their API tokens for it are
    revoked and, if they work nowhere else on this node, their account is disabled, so
    an open session and every token are refused from the next request on. Their history
    and their authorship stay."""
    person = _member(practice, person_id)
    _require(actor, person)
    if person.pk == actor.person_id:
        raise ValidationError(_("You cannot deactivate your own account."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why (it is kept in the audit trail).")})
    memberships = Membership.objects.filter(practice_id=practice.pk, person=person, is_active=True)
    roles = sorted(memberships.values_list("role", flat=True))
    if Role.PRACTICE_ADMIN in roles and not _admins_left(practice, person):
        raise ValidationError(_("The practice must keep at least one administrator."))
    memberships.update(is_active=False)
    now = timezone.now()
    ApiToken.objects.filter(person=person, practice_id=practice.pk, revoked_at=None).update(
        revoked_at=now
    )
    Invitation.objects.filter(person=person, used_at=None, revoked_at=None).update(revoked_at=now)
    works_elsewhere = (
        Membership.objects.filter(person=person, is_active=True)
        .exclude(practice_id=practice.pk)
        .exists()
    )
    if not (works_elsewhere or person.is_cooperative_admin or person.is_node_admin):
        Person.objects.filter(pk=person.pk).update(is_active=False)
    record_event(
        "staff.deactivate",
        actor=actor,
        target=f"person:{person.pk}",
        reason=reason.strip()[:500],
        details={"roles": roles, "account_disabled": not works_elsewhere},
    )


@transaction.atomic
def staff_reactivate(
    *, actor: Actor, practice: PracticeRow, person_id: int, roles: Iterable[str]
) -> None:
    """The person comes back, with these roles."""
    person = _member(practice, person_id)
    _require(actor, person)
    Person.objects.filter(pk=person.pk).update(is_active=True)
    person.is_active = True
    staff_set_roles(actor=actor, practice=practice, person_id=person.pk, roles=roles)
    record_event("staff.reactivate", actor=actor, target=f"person:{person.pk}")


@transaction.atomic
def staff_reset_second_factor(
    *, actor: Actor, practice: PracticeRow, person_id: int, admin_code: str
) -> None:
    """A lost phone: the person's second factor is removed, and they enroll a new one at
    their next login. The administrator confirms with their own current code, so that an
    unattended administrator's screen cannot be used for it."""
    person = _member(practice, person_id)
    _require(actor, person)
    admin = Person.objects.get(pk=actor.person_id)
    device = confirmed_device(admin)
    code = "".join(admin_code.split())
    if device is None or not (code.isdigit() and len(code) == 6 and device.verify_token(code)):
        raise ValidationError(
            {"admin_code": _("Wrong code: enter the code your own authenticator app shows.")}
        )
    removed = TOTPDevice.objects.filter(user=person).delete()[0]
    record_event(
        "staff.second_factor_reset",
        actor=actor,
        target=f"person:{person.pk}",
        details={"devices_removed": removed},
    )


@transaction.atomic
def staff_unlock(*, actor: Actor, practice: PracticeRow, person_id: int) -> None:
    """Lift every lock on the person's logins, from every address."""
    person = _member(practice, person_id)
    _require(actor, person)
    Person.objects.filter(pk=person.pk).update(failed_logins=0, locked_until=None)
    cleared = throttle.forget_account(username=person.username)
    record_event(
        "staff.unlock",
        actor=actor,
        target=f"person:{person.pk}",
        details={"address_locks_cleared": cleared},
    )
