"""Accounts: creating people, logging in (password, then second factor), API tokens.

Every outcome of a login attempt is written to the audit trail. After
``CARNET_LOGIN_MAX_FAILURES`` consecutive failures (password or code) the account is
locked for ``CARNET_LOGIN_LOCK_MINUTES``; while locked, even the right password is
refused, so guessing cannot continue.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts.models import ApiToken, Membership, Person
from core.audit.services import Outcome, record_event
from core.practices.models import Practice
from core.prepared import Prepared


class LoginError:
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    INACTIVE = "inactive"
    BAD_CODE = "bad_code"
    # A code entered within the moment that follows a wrong one: the TOTP device holds
    # verification back (1, 2, 4… seconds), so even the right code is refused then.
    TOO_SOON = "too_soon"


@dataclass(frozen=True)
class LoginResult:
    person: Person | None
    error: str | None = None
    locked_until: datetime | None = None


@transaction.atomic
def person_create(
    *,
    username: str,
    full_name: str,
    password: str | None,
    practice: Practice | None = None,
    roles: tuple[str, ...] = (),
    profession: str = "",
    rpps: str = "",
    email: str = "",
    is_cooperative_admin: bool = False,
    is_node_admin: bool = False,
    actor: Person | None = None,
    check_password: bool = True,
) -> Person:
    person = Person(
        username=username.strip().lower(),
        full_name=full_name,
        email=email,
        profession=profession,
        rpps=rpps,
        is_cooperative_admin=is_cooperative_admin,
        is_node_admin=is_node_admin,
    )
    person.full_clean(exclude=["password"])
    if password and check_password:
        validate_password(password, person)
    person.set_password(password)
    person.save()
    for role in roles:
        assert practice is not None, "a role needs a practice"
        Membership.objects.create(practice=practice, person=person, role=role)
    record_event(
        "person.create",
        actor=actor,
        practice_id=practice.pk if practice else None,
        target=f"person:{person.pk}",
        details={"roles": list(roles)},
    )
    return person


def _register_failure(
    person: Person, reason: str, error: str | None = None, retry_at: datetime | None = None
) -> LoginResult:
    """Count one failed attempt; lock the account when the limit is reached."""
    Person.objects.filter(pk=person.pk).update(failed_logins=F("failed_logins") + 1)
    person.refresh_from_db(fields=["failed_logins", "locked_until"])
    record_event(
        "login.failed",
        outcome=Outcome.FAILURE,
        actor=person,
        reason=reason,
        details={"consecutive_failures": person.failed_logins},
    )
    if person.failed_logins >= settings.CARNET_LOGIN_MAX_FAILURES:
        locked_until = timezone.now() + timedelta(minutes=settings.CARNET_LOGIN_LOCK_MINUTES)
        Person.objects.filter(pk=person.pk).update(failed_logins=0, locked_until=locked_until)
        record_event(
            "account.locked",
            outcome=Outcome.DENIED,
            actor=person,
            reason=f"{settings.CARNET_LOGIN_MAX_FAILURES} failed attempts",
            details={"locked_until": locked_until.isoformat()},
        )
        return LoginResult(None, LoginError.LOCKED, locked_until)
    if error is None:
        error = LoginError.BAD_CODE if reason == "second factor" else LoginError.BAD_CREDENTIALS
    return LoginResult(None, error, retry_at)


def login_check_password(*, username: str, password: str) -> LoginResult:
    """First step of a login. Success means 'go on to the second factor', not logged in."""
    person = Person.objects.filter(username=username.strip().lower()).first()
    if person is None:
        # Hash anyway so that timing does not reveal which usernames exist.
        Person().set_password(password)
        record_event(
            "login.failed",
            outcome=Outcome.FAILURE,
            actor_label=username[:150],
            reason="unknown username",
        )
        return LoginResult(None, LoginError.BAD_CREDENTIALS)
    if person.is_locked():
        record_event(
            "login.refused",
            outcome=Outcome.DENIED,
            actor=person,
            reason="account locked after repeated failures",
        )
        return LoginResult(None, LoginError.LOCKED, person.locked_until)
    if not person.check_password(password):
        return _register_failure(person, "wrong password")
    if not person.is_active:
        record_event("login.refused", outcome=Outcome.DENIED, actor=person, reason="inactive")
        return LoginResult(None, LoginError.INACTIVE)
    return LoginResult(person)


def confirmed_device(person: Person) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=person, confirmed=True).first()


def enrollment_device(person: Person) -> TOTPDevice:
    """The unconfirmed TOTP device shown as a QR code until its first code is entered."""
    device = TOTPDevice.objects.filter(user=person, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=person, name="Carnet", confirmed=False)
    return device


def login_check_code(*, person: Person, code: str, device: TOTPDevice) -> LoginResult:
    """Second step: the TOTP code. Success completes the login (see views)."""
    person.refresh_from_db(fields=["locked_until", "failed_logins", "is_active"])
    if person.is_locked():
        record_event(
            "login.refused",
            outcome=Outcome.DENIED,
            actor=person,
            reason="account locked after repeated failures",
        )
        return LoginResult(None, LoginError.LOCKED, person.locked_until)
    code = "".join(code.split())
    allowed, held_back = device.verify_is_allowed()
    if not allowed:
        # Still a failed attempt towards the lock (a guesser gains nothing by hurrying),
        # but say why: the code itself may well be right.
        return _register_failure(
            person,
            "second factor entered too soon after a wrong one",
            LoginError.TOO_SOON,
            (held_back or {}).get("locked_until"),
        )
    if not (code.isdigit() and len(code) == 6 and device.verify_token(code)):
        return _register_failure(person, "second factor")
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record_event("second_factor.enrolled", actor=person, target=f"totp:{device.pk}")
    Person.objects.filter(pk=person.pk).update(failed_logins=0, locked_until=None)
    record_event("login", actor=person, details={"second_factor": "totp"})
    return LoginResult(person)


def memberships_of(person: Person) -> list[Membership]:
    return list(
        Membership.objects.filter(person=person, is_active=True, practice__is_active=True)
        .select_related("practice")
        .order_by("practice__name", "role")
    )


# --- API tokens -------------------------------------------------------------------------


@transaction.atomic
def api_token_create(
    *, person: Person, practice: Practice, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it with its plaintext, which is never shown again."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        person=person,
        practice=practice,
        name=name,
        key_id=key_id,
        secret_hash=ApiToken.hash_secret(secret),
        expires_at=expires_at,
    )
    record_event(
        "api_token.create", actor=person, practice_id=practice.pk, target=f"token:{key_id}"
    )
    return token, f"{ApiToken.PREFIX}_{key_id}_{secret}"


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Person) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    record_event(
        "api_token.revoke",
        actor=actor,
        practice_id=token.practice_id,
        target=f"token:{token.key_id}",
    )


# Every API call reads its token: compiled once (core.prepared).
_TOKEN = Prepared(
    lambda key_id: ApiToken.objects.select_related("person", "practice").filter(key_id=key_id),
    key_id=str,
)


def api_token_authenticate(raw: str) -> ApiToken | None:
    """Find the usable token matching a plaintext, or None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != ApiToken.PREFIX:
        return None
    token = _TOKEN.first(key_id=parts[1])
    if token is None or not secrets.compare_digest(
        token.secret_hash, ApiToken.hash_secret(parts[2])
    ):
        return None
    if not token.is_usable() or not token.person.is_active:
        return None
    return token
