"""Applications to join the cooperative: submitted from the node's public page, then
approved (the practice is provisioned by ``onboarding.practice_onboard`` and its first
administrator gets an invitation) or refused with a reason by a cooperative
administrator. Each step is audited on the node's chain (and the approval on the new
practice's chain too); an application is stored whole or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Actor, CooperativeAction
from core.access.services import require_cooperative
from core.accounts.models import Person, Role
from core.accounts.services import staff
from core.accounts.validators import validate_am_number, validate_rpps
from core.audit.services import record_event
from core.practices import selectors
from core.practices.models import (
    ApplicationPractitioner,
    CooperativeMembership,
    MembershipApplication,
)
from core.practices.services import onboarding

MAX_PRACTITIONERS = 12
MAX_SHARES = 1000
# Applications are checked against the stored ones one at a time (a transaction-level
# advisory lock), so that two copies sent at once cannot both pass the sameness check.
SUBMIT_LOCK = 0x4361726E65744170  # "CarnetAp"


@dataclass(frozen=True)
class PractitionerEntry:
    full_name: str
    profession: str
    identifier: str = ""  # RPPS (France) or INAMI (Belgium); optional


@dataclass(frozen=True)
class ApplicationInput:
    practice_name: str
    address: str
    postal_code: str
    city: str
    country: str
    plan: str
    shares: int
    contact_name: str
    contact_email: str
    contact_phone: str
    statutes_accepted: bool
    practitioners: tuple[PractitionerEntry, ...]


class TooManyApplications(ValidationError):
    """This address sent too many applications lately (HTTP 429)."""


def _check_identifier(country: str, identifier: str) -> str:
    """The number as digits, checked for France (RPPS, 11 digits, or the Assurance
    Maladie number, 9 digits); an INAMI number (Belgium) has 11 digits."""
    digits = "".join(identifier.split())
    if not digits:
        return ""
    if country == MembershipApplication.Country.FRANCE:
        if len(digits) == 9:
            validate_am_number(digits)
        else:
            validate_rpps(digits)
    elif not (digits.isdigit() and len(digits) == 11):
        raise ValidationError(_("An INAMI number has 11 digits."))
    return digits


def _validate(data: ApplicationInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for name, value, message in (
        ("practice_name", data.practice_name, _("Give the practice's name.")),
        ("address", data.address, _("Give the practice's address.")),
        ("postal_code", data.postal_code, _("Give the postal code.")),
        ("city", data.city, _("Give the city.")),
        ("contact_name", data.contact_name, _("Give the name of the person to contact.")),
        ("contact_phone", data.contact_phone, _("Give a phone number to reach you.")),
    ):
        if not value.strip():
            add(name, message)
    if data.country not in MembershipApplication.Country.values:
        add("country", _("Choose France or Belgium."))
    if data.plan not in CooperativeMembership.Plan.values:
        add("plan", _("Choose a plan."))
    if not 1 <= data.shares <= MAX_SHARES:
        add("shares", _("Subscribe between 1 and %(max)s shares.") % {"max": MAX_SHARES})
    try:
        validate_email(data.contact_email.strip())
    except ValidationError:
        add("contact_email", _("Give a valid e-mail address."))
    if not data.statutes_accepted:
        add("statutes_accepted", _("Joining means accepting the cooperative's statutes."))
    if not data.practitioners:
        add("practitioners", _("Name at least one practitioner of the practice."))
    if len(data.practitioners) > MAX_PRACTITIONERS:
        add("practitioners", _("At most %(max)s practitioners.") % {"max": MAX_PRACTITIONERS})
    for index, entry in enumerate(data.practitioners):
        if not entry.full_name.strip():
            add(f"practitioner_{index}_name", _("Give the practitioner's full name."))
        if entry.profession not in Person.Profession.values:
            add(f"practitioner_{index}_profession", _("Choose the practitioner's profession."))
        try:
            _check_identifier(data.country, entry.identifier)
        except ValidationError as error:
            add(f"practitioner_{index}_identifier", error.messages[0])
    _validate_not_already_in(data, errors)
    return errors


def _validate_not_already_in(data: ApplicationInput, errors: dict[str, list[str]]) -> None:
    """A second application for the same practice is refused: same name (accents and
    case aside) at the same postal code, or a practitioner's number already named on a
    pending or approved application or held by someone of a member practice. A refused
    application does not count: the practice may apply again."""
    if data.practice_name.strip() and selectors.practice_already_in(
        data.practice_name, data.postal_code
    ):
        errors.setdefault("practice_name", []).append(
            _(
                "A practice of this name at this postal code has already applied to join"
                " the cooperative, or is a member already: it cannot apply twice. If"
                " this is a mistake, contact the cooperative."
            )
        )
    numbers: dict[int, str] = {}
    for index, entry in enumerate(data.practitioners):
        try:
            numbers[index] = _check_identifier(data.country, entry.identifier)
        except ValidationError:
            continue  # already said
    taken = selectors.identifiers_already_in(set(numbers.values()))
    for index, number in numbers.items():
        if number and number in taken:
            errors.setdefault(f"practitioner_{index}_identifier", []).append(
                _(
                    "This number is already named on an application to join the"
                    " cooperative, or held by a practitioner of a member practice."
                )
            )


def _throttle(address: str) -> None:
    limit = settings.CARNET_APPLICATIONS_PER_ADDRESS
    since = timezone.now() - timedelta(hours=1)
    sent = MembershipApplication.objects.filter(
        submitted_from=address, submitted_at__gte=since
    ).count()
    if address and sent >= limit:
        raise TooManyApplications(
            _("Too many applications were sent from this connection: try again in an hour."),
            code="throttled",
        )


@transaction.atomic
def application_submit(
    *, data: ApplicationInput, address: str = "", entered_by: Actor | None = None
) -> MembershipApplication:
    """Store an application, whole, or refuse it with the reason for each field (a
    second application for the same practice among them: nothing is stored).

    ``entered_by``: a cooperative administrator typing in an application received on
    paper (the same page, the same checks); theirs is not counted against the limit of
    applications per connection, and the audit event names them."""
    if entered_by is not None:
        require_cooperative(entered_by, CooperativeAction.REVIEW_APPLICATIONS)
        address = ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SUBMIT_LOCK])
    errors = _validate(data)
    if errors:
        raise ValidationError(errors)
    _throttle(address[:64])
    application = MembershipApplication.objects.create(
        practice_name=data.practice_name.strip(),
        address=data.address.strip(),
        postal_code=data.postal_code.strip(),
        city=data.city.strip(),
        country=data.country,
        plan=data.plan,
        shares=data.shares,
        contact_name=data.contact_name.strip(),
        contact_email=data.contact_email.strip(),
        contact_phone=data.contact_phone.strip(),
        statutes_accepted_at=timezone.now(),
        submitted_from=address[:64],
    )
    for index, entry in enumerate(data.practitioners):
        ApplicationPractitioner.objects.create(
            application=application,
            position=index,
            full_name=entry.full_name.strip(),
            profession=entry.profession,
            identifier=_check_identifier(data.country, entry.identifier),
        )
    record_event(
        "cooperative.application.submit",
        actor=entered_by,
        actor_label="" if entered_by else application.contact_email,
        practice_id=None,
        target=f"application:{application.pk}",
        details={
            "practitioners": len(data.practitioners),
            "shares": data.shares,
            "on_paper": entered_by is not None,
        },
    )
    return application


def _pending(application_id: int) -> MembershipApplication:
    application = (
        MembershipApplication.objects.select_for_update().filter(pk=application_id).first()
    )
    if application is None:
        raise MembershipApplication.DoesNotExist(_("No such application."))
    if application.status != MembershipApplication.Status.PENDING:
        raise ValidationError(_("This application was already decided."), code="decided")
    return application


@dataclass(frozen=True)
class Approval:
    application: MembershipApplication
    admin: Person
    invitation: staff.IssuedInvitation


@transaction.atomic
def application_approve(*, actor: Actor, application_id: int) -> Approval:
    """Provision the practice the application describes (``practice_onboard``, as
    ``carnet onboard_practice`` does): its membership with the plan and shares asked,
    one account per practitioner listed, the first one its administrator too, who gets
    the invitation link to set a password. Nothing is created if any step fails."""
    require_cooperative(
        actor, CooperativeAction.REVIEW_APPLICATIONS, target=f"application:{application_id}"
    )
    application = _pending(application_id)
    practitioners = list(application.practitioners.all())
    taken: set[str] = set()
    people = []
    for index, entry in enumerate(practitioners):
        username = onboarding.free_username(entry.full_name, taken)
        taken.add(username)
        roles = (Role.PRACTITIONER, Role.PRACTICE_ADMIN) if index == 0 else (Role.PRACTITIONER,)
        people.append(
            onboarding.NewPerson(
                username=username,
                full_name=entry.full_name,
                roles=roles,
                email=application.contact_email if index == 0 else "",
                profession=entry.profession,
                # An RPPS is kept as the person's RPPS; other numbers stay on the form.
                rpps=entry.identifier
                if application.country == "FR" and len(entry.identifier) == 11
                else "",
            )
        )
    onboarded = onboarding.practice_onboard(
        practice=onboarding.NewPractice(
            slug=onboarding.free_slug(application.practice_name),
            name=application.practice_name,
            address=application.address,
            postal_code=application.postal_code,
            city=application.city,
            country=application.country,
            phone=application.contact_phone,
            plan=application.plan,
            shares=application.shares,
        ),
        people=people,
        actor=actor,
    )
    admin = onboarded.people[0]
    invitation = staff.first_admin_invite(
        actor=actor, practice=onboarded.practice, person_id=admin.pk
    )
    application.status = MembershipApplication.Status.APPROVED
    application.decided_at = timezone.now()
    application.decided_by_id = actor.person_id
    application.practice = onboarded.practice
    application.save(update_fields=["status", "decided_at", "decided_by", "practice"])
    for chain in (None, onboarded.practice.pk):
        record_event(
            "cooperative.application.approve",
            actor=actor,
            practice_id=chain,
            target=f"application:{application.pk}",
            details={"practice": onboarded.practice.slug, "people": len(people)},
        )
    return Approval(application, admin, invitation)


@transaction.atomic
def application_refuse(*, actor: Actor, application_id: int, reason: str) -> None:
    """Refuse an application, saying why (kept with it and in the audit trail)."""
    require_cooperative(
        actor, CooperativeAction.REVIEW_APPLICATIONS, target=f"application:{application_id}"
    )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the application is refused.")})
    application = _pending(application_id)
    application.status = MembershipApplication.Status.REFUSED
    application.decided_at = timezone.now()
    application.decided_by_id = actor.person_id
    application.refusal_reason = reason.strip()[:500]
    application.save(update_fields=["status", "decided_at", "decided_by", "refusal_reason"])
    record_event(
        "cooperative.application.refuse",
        actor=actor,
        practice_id=None,
        target=f"application:{application.pk}",
        reason=application.refusal_reason,
    )


@transaction.atomic
def application_reinvite(*, actor: Actor, application_id: int) -> staff.IssuedInvitation:
    """A new invitation link for the first administrator of the practice an approved
    application created, when theirs was lost or expired before they used it: the old
    link stops working at once. Audited on the node's chain (and, by
    ``staff.first_admin_reinvite``, on the practice's)."""
    require_cooperative(
        actor, CooperativeAction.REVIEW_APPLICATIONS, target=f"application:{application_id}"
    )
    application = (
        MembershipApplication.objects.select_for_update(of=("self",))
        .select_related("practice")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise MembershipApplication.DoesNotExist(_("No such application."))
    person_id = (
        selectors.first_admin_of(application.practice.pk)
        if application.status == MembershipApplication.Status.APPROVED and application.practice
        else None
    )
    if application.practice is None or person_id is None:
        raise ValidationError(
            _("Only the practice of an approved application has a first administrator to invite."),
            code="not_approved",
        )
    issued = staff.first_admin_reinvite(
        actor=actor, practice=application.practice, person_id=person_id
    )
    record_event(
        "cooperative.application.reinvite",
        actor=actor,
        practice_id=None,
        target=f"application:{application.pk}",
        details={"invitation": issued.invitation.pk},
    )
    return issued
