"""People and their roles.

Every person has an individual account: no shared logins. A person holds roles in
practices through ``Membership`` (a GP who is also the practice's admin holds two).
Two node-level roles have no practice and no clinical access at all: cooperative admin
(members, subscriptions) and node admin (deployment).
"""

from __future__ import annotations

import hashlib
from importlib import import_module

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.accounts.validators import validate_am_number, validate_inami, validate_rpps
from core.quickload import QuickLoad

# A practice (``practices.Practice``), named by its label: the practices app sits above
# this one (its pages and its way into a practice use the accounts), so nothing here
# imports it.
PracticeRow = models.Model


class PersonManager(BaseUserManager["Person"]):
    def create_user(self, username: str, password: str | None = None, **fields: object) -> Person:
        person = self.model(username=username.strip().lower(), **fields)
        person.set_password(password)
        person.save(using=self._db)
        return person

    def create_superuser(
        self, username: str, password: str | None = None, **fields: object
    ) -> Person:
        """``carnet createsuperuser``: the node's first administrator. Carnet has no
        all-powerful account: this person is node admin (deployment) and cooperative admin
        (member practices), with no role in any practice and so no patient data."""
        fields.pop("is_staff", None)
        fields.pop("is_superuser", None)
        fields.setdefault("is_node_admin", True)
        fields.setdefault("is_cooperative_admin", True)
        return self.create_user(username, password, **fields)

    def get_by_natural_key(self, username: str | None) -> Person:
        return self.get(username=(username or "").strip().lower())


class Person(QuickLoad, AbstractBaseUser):
    """Someone who logs in to Carnet."""

    class Profession(models.TextChoices):
        GENERAL_PRACTITIONER = "gp", _("General practitioner")
        PHYSICIAN = "physician", _("Physician (other specialty)")
        NURSE = "nurse", _("Nurse")
        PHYSIOTHERAPIST = "physio", _("Physiotherapist")
        MIDWIFE = "midwife", _("Midwife")

    username = models.CharField(_("username"), max_length=150, unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    profession = models.CharField(
        _("profession"), max_length=20, choices=Profession.choices, blank=True
    )
    rpps = models.CharField(_("RPPS number"), max_length=11, blank=True, validators=[validate_rpps])
    # Printed on prescriptions (the identifier Assurance Maladie pays the practitioner by).
    am_number = models.CharField(
        _("Assurance Maladie number"),
        max_length=9,
        blank=True,
        default="",
        db_default="",
        validators=[validate_am_number],
    )
    # In a Belgian practice: the number the INAMI (RIZIV) knows the practitioner by,
    # printed on each attestation de soins; it stands for the RPPS there.
    inami = models.CharField(
        _("INAMI number"),
        max_length=11,
        blank=True,
        default="",
        db_default="",
        validators=[validate_inami],
    )
    is_active = models.BooleanField(default=True)
    is_cooperative_admin = models.BooleanField(default=False)
    is_node_admin = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    failed_logins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    preferred_language = models.CharField(max_length=5, blank=True)
    # The code that leaves the patient view (records.patient_view), hashed like a
    # password. Separate from the password so that the practitioner never types their
    # password in front of the patient.
    patient_view_pin = models.CharField(max_length=128, blank=True, db_default="")

    objects = PersonManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", _("Practitioner")
    SECRETARY = "secretary", _("Secretary")
    PRACTICE_ADMIN = "practice_admin", _("Practice administrator")


class Membership(models.Model):
    """A role a person holds in a practice."""

    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="memberships"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "person", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_role_display()} @ {self.practice_id}"

    @property
    def is_practitioner(self) -> bool:
        """A fact about the team (who can be a GP of record, issue an invoice), not a
        permission: what a role may do is the access policy's to say."""
        return self.role == Role.PRACTITIONER


class ApiToken(models.Model):
    """A personal, revocable token for a machine client, bound to one practice.

    Only a SHA-256 of the secret is stored: the token is shown once, at creation.
    """

    PREFIX = "carnet"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Invitation(models.Model):
    """A single-use link by which a person a practice admin added sets their password and
    enrolls their second factor. Valid ``VALID_HOURS``; it can be handed over on paper
    (printed with a QR code). Only a SHA-256 of the secret is stored, so the link is
    shown once, when it is made.
    """

    VALID_HOURS = 72

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="invitations")
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.person} @ {self.practice_id}"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class IdempotentRequest(models.Model):
    """The answer given to an API write sent with an ``Idempotency-Key``.

    Stored in the transaction of the write itself: either both are committed or neither
    is. A client that did not receive the answer (a cut connection, a restarted server)
    sends the same request with the same key again and gets the stored answer instead of
    a second consultation or a second invoice.
    """

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    request = models.CharField(max_length=300)  # method and path the key was first used for
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(null=True)  # null: an answer without a body (204)
    # [[patient_id, category], ...]: the patients whose data the write touched (from its
    # audit events). A replay hands this answer out again, so it is checked against the
    # access policy as it stands then, and audited, for each of them.
    patients = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "person", "key"], name="idempotent_request_key"
            )
        ]


class LoginThrottle(models.Model):
    """Failed logins counted in fixed windows, per client address and per username typed
    from one address (``core.accounts.throttle``).

    Keyed by the username as typed, not by the person: an unknown username is counted and
    refused exactly like a known one, so the answers never tell which usernames exist.
    Kept in PostgreSQL (no other server); no patient data, no practice.
    """

    key = models.CharField(max_length=400, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class PersonSession(AbstractBaseSession):
    """A browser session (Django's database session), with the person it is logged in as
    in a column of its own.

    Django keeps the person only inside the session's signed data, so a page read its
    session, then the person, in two round trips. With the column, both go in one
    message with the person's second-factor devices (``core.accounts.sessions``).

    Empty before the login. No database constraint: a session is written as the response
    leaves and must not fail because its person was removed meanwhile (the person's
    removal removes their sessions: the ORM's cascade, and the practice purge's own).
    """

    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="sessions",
    )

    class Meta:
        db_table = "accounts_session"
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls) -> type:
        # The configured engine (core.accounts.sessions), which itself imports this module.
        return import_module(settings.SESSION_ENGINE).SessionStore
