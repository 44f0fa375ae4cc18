"""Accounts: creating people, logging in (password, then second factor), API tokens.

Every outcome of a login attempt is written to the audit trail. Wrong passwords are
limited per client address and per username from one address (``throttle``), so nobody
can lock a colleague out by knowing their username. Wrong second-factor codes (the
password was right) lock the account itself after ``CARNET_LOGIN_MAX_FAILURES``, for
``CARNET_LOGIN_LOCK_MINUTES``; while locked, even the right password is refused.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import read_ahead, requestinfo, tenancy
from core.accounts import throttle
from core.accounts.models import ApiToken, Membership, Person, PracticeRow
from core.audit.services import Outcome, record_event
from core.prepared import Bound, Prepared, PreparedSQL, fetch_together


class LoginError:
    BAD_CREDENTIALS = "bad_credentials"
    # Too many failures on this username from this address (the same answer whether or
    # not the username exists).
    LOCKED = "locked"
    # Too many wrong second-factor codes: the account itself is locked.
    ACCOUNT_LOCKED = "account_locked"
    # Too many failures from this address, whatever the username: HTTP 429.
    THROTTLED = "throttled"
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
    practice: PracticeRow | None = None,
    roles: tuple[str, ...] = (),
    profession: str = "",
    rpps: str = "",
    am_number: str = "",
    email: str = "",
    is_cooperative_admin: bool = False,
    is_node_admin: bool = False,
    actor: object = None,  # a Person, or a policy Actor (the audit names either)
    check_password: bool = True,
) -> Person:
    person = Person(
        username=username.strip().lower(),
        full_name=full_name,
        email=email,
        profession=profession,
        rpps=rpps,
        am_number=am_number,
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
        Membership.objects.create(practice_id=practice.pk, person=person, role=role)
    record_event(
        "person.create",
        actor=actor,
        practice_id=practice.pk if practice else None,
        target=f"person:{person.pk}",
        details={"roles": list(roles)},
    )
    return person


def _register_code_failure(
    person: Person, reason: str, error: str | None = None, retry_at: datetime | None = None
) -> LoginResult:
    """Count one wrong second-factor code. The password was right, so this is no
    stranger knowing a username: the account itself is locked at the limit, from every
    address (the password must be presumed known), and an administrator can unlock it."""
    Person.objects.filter(pk=person.pk).update(failed_logins=F("failed_logins") + 1)
    person.refresh_from_db(fields=["failed_logins", "locked_until"])
    throttle.count_failure(username=person.username, address=_address())
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
            reason=f"{settings.CARNET_LOGIN_MAX_FAILURES} wrong second-factor codes",
            details={"locked_until": locked_until.isoformat(), "scope": "account"},
        )
        return LoginResult(None, LoginError.ACCOUNT_LOCKED, locked_until)
    return LoginResult(None, error or LoginError.BAD_CODE, retry_at)


def _address() -> str:
    return requestinfo.current().ip


def _refused(refusal: throttle.Refusal, person: Person | None, username: str) -> LoginResult:
    record_event(
        "login.refused",
        outcome=Outcome.DENIED,
        actor=person,
        actor_label=person.username if person else username[:150],
        reason=(
            "too many failed attempts from this address"
            if refusal.scope == "address"
            else "too many failed attempts on this username from this address"
        ),
        details={"scope": refusal.scope, "until": refusal.until.isoformat()},
    )
    error = LoginError.THROTTLED if refusal.scope == "address" else LoginError.LOCKED
    return LoginResult(None, error, refusal.until)


def login_check_password(*, username: str, password: str) -> LoginResult:
    """First step of a login. Success means 'go on to the second factor', not logged in.

    Whether the username exists changes nothing in the answer: the same counters, the
    same password hashing, the same messages (``core.accounts.throttle``).
    """
    address = _address()
    folded = throttle.fold(username)
    person = Person.objects.filter(username=folded).first()
    refusal = throttle.refusal(username=folded, address=address)
    if refusal is not None:
        return _refused(refusal, person, username)
    if person is None:
        # Hash anyway so that timing does not reveal which usernames exist.
        Person().set_password(password)
        right = False
    else:
        right = person.check_password(password)
    if not right:
        throttle.count_failure(username=folded, address=address)
        record_event(
            "login.failed",
            outcome=Outcome.FAILURE,
            actor=person,
            actor_label=person.username if person else username[:150],
            reason="wrong password" if person is not None else "unknown username",
        )
        refusal = throttle.refusal(username=folded, address=address)
        if refusal is not None:
            if refusal.scope == "account":
                record_event(
                    "account.locked",
                    outcome=Outcome.DENIED,
                    actor=person,
                    actor_label=person.username if person else username[:150],
                    reason=f"{settings.CARNET_LOGIN_MAX_FAILURES} failed attempts",
                    details={"locked_until": refusal.until.isoformat(), "scope": "address"},
                )
            return LoginResult(
                None,
                LoginError.THROTTLED if refusal.scope == "address" else LoginError.LOCKED,
                refusal.until,
            )
        return LoginResult(None, LoginError.BAD_CREDENTIALS)
    assert person is not None
    if person.is_locked():
        record_event(
            "login.refused",
            outcome=Outcome.DENIED,
            actor=person,
            reason="account locked after repeated wrong codes",
        )
        return LoginResult(None, LoginError.ACCOUNT_LOCKED, person.locked_until)
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
    refusal = throttle.refusal(username=person.username, address=_address())
    if refusal is not None and refusal.scope == "address":
        return _refused(refusal, person, person.username)
    if person.is_locked():
        record_event(
            "login.refused",
            outcome=Outcome.DENIED,
            actor=person,
            reason="account locked after repeated wrong codes",
        )
        return LoginResult(None, LoginError.ACCOUNT_LOCKED, person.locked_until)
    code = "".join(code.split())
    allowed, held_back = device.verify_is_allowed()
    if not allowed:
        # Still a failed attempt towards the lock (a guesser gains nothing by hurrying),
        # but say why: the code itself may well be right.
        return _register_code_failure(
            person,
            "second factor entered too soon after a wrong one",
            LoginError.TOO_SOON,
            (held_back or {}).get("locked_until"),
        )
    if not (code.isdigit() and len(code) == 6 and device.verify_token(code)):
        return _register_code_failure(person, "second factor")
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record_event("second_factor.enrolled", actor=person, target=f"totp:{device.pk}")
    Person.objects.filter(pk=person.pk).update(failed_logins=0, locked_until=None)
    throttle.forget_account(username=person.username, address=_address())
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
    *, person: Person, practice: PracticeRow, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it with its plaintext, which is never shown again."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        person=person,
        practice_id=practice.pk,
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
    key = _token_key(raw)
    if key is None:
        return None
    return _usable(_TOKEN.first(key_id=key[0]), key[1])


def _token_key(raw: str) -> tuple[str, str] | None:
    """The token's key id and the hash of its secret, from its plaintext."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != ApiToken.PREFIX:
        return None
    return parts[1], ApiToken.hash_secret(parts[2])


def _usable(token: ApiToken | None, secret_hash: str) -> ApiToken | None:
    if token is None or not secrets.compare_digest(token.secret_hash, secret_hash):
        return None
    if not token.is_usable() or not token.person.is_active:
        return None
    return token


# An API call's first round trip: the token; the tenant set for row-level security when
# the token is good; the person's roles in the token's practice, read under it (the
# statements of one message run in order, so the last sees the settings just made). The
# database's test of the token only decides whether the tenant is set: the token is
# accepted or refused by ``_usable`` above, as for any other caller.
@functools.cache
def _enter_by_token() -> PreparedSQL:
    """(Built on first use: the practice model is another app's, known once all are.)"""
    token, person = ApiToken._meta.db_table, Person._meta.db_table
    practice = ApiToken._meta.get_field("practice").related_model._meta.db_table
    usable = (
        "t.secret_hash = %(secret_hash)s AND t.revoked_at IS NULL"
        " AND (t.expires_at IS NULL OR t.expires_at > now()) AND p.is_active AND pr.is_active"
    )
    return PreparedSQL(
        f"SELECT set_config('carnet.practice_id', t.practice_id::text, true),"  # noqa: S608
        f" set_config('carnet.person_id', t.person_id::text, true)"
        f' FROM "{token}" t JOIN "{person}" p ON p.id = t.person_id'
        f' JOIN "{practice}" pr ON pr.id = t.practice_id'
        f" WHERE t.key_id = %(key_id)s AND {usable}"  # nosec B608 - fixed names
    )


_ROLES_UNDER_TENANT = Prepared(
    lambda: Membership.objects.filter(
        person_id=RawSQL("carnet_current_person()", []),
        practice_id=RawSQL("carnet_current_practice()", []),
        is_active=True,
    ).values_list("role", flat=True)
)


def api_token_enter(
    raw: str, ahead: tuple[Hashable, Sequence[Bound]] | None = None
) -> ApiToken | None:
    """Authenticate an API call by its token and, in the same round trip, enter the
    token's practice: the tenant is set for the rest of the transaction and the person's
    roles there are kept on the token (``entered_roles``), for ``enter_practice``.

    ``ahead``: the key and statements of the view's first read, sent in the same
    message under the tenant just set (``core.read_ahead``); their rows are kept only
    if the token is accepted and its practice entered.

    Outside a transaction (where the tenant cannot be set) it only authenticates."""
    if not transaction.get_connection().in_atomic_block:
        return api_token_authenticate(raw)
    key = _token_key(raw)
    if key is None:
        return None
    ahead_key, ahead_statements = ahead or (None, ())
    tokens, entered, roles, *read = fetch_together(
        _TOKEN.bind(key_id=key[0]),
        _enter_by_token().bind(key_id=key[0], secret_hash=key[1]),
        _ROLES_UNDER_TENANT.bind(),
        *ahead_statements,
    )
    token = _usable(tokens[0] if tokens else None, key[1])
    if token is None:
        return None
    if entered == [(str(token.practice_id), str(token.person_id))]:
        tenancy.adopt(token.practice_id, token.person_id, token.practice.care_team_mode)
        token.entered_roles = frozenset(roles)  # type: ignore[attr-defined]
        if ahead_statements:
            read_ahead.keep(ahead_key, read)
    return token


# --- The code that leaves the patient view ----------------------------------------------

PATIENT_VIEW_TRIES = 5


@transaction.atomic
def patient_view_pin_set(*, person: Person, current_password: str, pin: str) -> None:
    """Set the practitioner's own code for leaving the patient view (hashed)."""
    from django.contrib.auth.hashers import make_password
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not person.check_password(current_password):
        raise ValidationError({"current_password": _("Wrong password.")})
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationError({"pin": _("The code has 4 to 8 digits.")})
    person.patient_view_pin = make_password(pin)
    person.save(update_fields=["patient_view_pin"])
    record_event("patient_view.pin_set", actor=person, target=f"person:{person.pk}")


def password_change(
    *, person: Person, current_password: str, new_password: str, repeated: str
) -> None:
    """The person's own new password: the current one to confirm, the node's password
    rules (length, not common, not like the username), typed twice. Audited."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if not person.check_password(current_password):
        raise ValidationError({"current_password": _("Wrong password.")})
    if new_password != repeated:
        raise ValidationError({"repeated": _("The two new passwords differ.")})
    if new_password == current_password:
        raise ValidationError({"new_password": _("Choose a password other than the current one.")})
    try:
        validate_password(new_password, user=person)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from None
    person.set_password(new_password)
    person.save(update_fields=["password"])
    record_event("account.password_changed", actor=person, target=f"person:{person.pk}")


def patient_view_unlock_ok(*, person: Person, secret: str) -> bool:
    """Is this the practitioner's own code for leaving the patient view, or the code
    their authenticator shows now?

    Checked without touching the login counters or the authenticator's own throttle: a
    patient trying codes on the turned screen must never lock the practitioner out of
    their account (the patient view counts its own tries and ends the session instead).
    """
    from django.contrib.auth.hashers import check_password
    from django_otp.oath import TOTP

    secret = "".join(secret.split())[:16]
    if not secret.isdigit():
        return False
    if person.patient_view_pin and check_password(secret, person.patient_view_pin):
        return True
    device = confirmed_device(person)
    if device is None or len(secret) != device.digits:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp.verify(int(secret), device.tolerance)
