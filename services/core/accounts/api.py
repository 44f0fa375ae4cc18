"""REST API of the practice's team, for its administrators: the same services as the
team pages (``services.staff``), the same policy (``PracticeAction.MANAGE_STAFF``,
checked on every call before anything else) and the same audit trail.

Thin views: they read through ``selectors`` and write through ``services.staff``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.access.policy import PracticeAction
from core.access.services import require_practice
from core.accounts import selectors
from core.accounts.forms import ROLE_CHOICES
from core.accounts.models import Person
from core.accounts.services import staff
from core.api import CarnetAPIView, PracticeAPIMixin

ROLES = [value for value, _label in ROLE_CHOICES]


class PendingInvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class StaffMemberOutput(serializers.Serializer):
    id = serializers.IntegerField(source="person.pk")
    full_name = serializers.CharField(source="person.full_name")
    username = serializers.CharField(source="person.username")
    email = serializers.CharField(source="person.email")
    profession = serializers.CharField(source="person.profession")
    rpps = serializers.CharField(source="person.rpps")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))
    former_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLES),
        help_text="roles the person held in the practice and holds no longer",
    )
    status = serializers.ChoiceField(
        choices=selectors.STAFF_STATUSES,
        help_text="deactivated; invited (has not set up the account from the link yet); "
        "locked (too many failed logins); otherwise active",
    )
    locked = serializers.BooleanField()
    second_factor = serializers.BooleanField(
        source="has_second_factor",
        help_text="false: the person sets up a second factor at their next login",
    )
    invitation = PendingInvitationOutput(
        allow_null=True, help_text="the link not used yet, if any (its secret is never shown again)"
    )


class InvitationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    link = serializers.CharField(
        allow_null=True,
        help_text="the single-use link to hand over (shown once; null in a replayed answer)",
    )
    secret = serializers.CharField(
        allow_null=True, help_text="the link's secret (shown once; null in a replayed answer)"
    )


class IssuedInvitationOutput(serializers.Serializer):
    person = StaffMemberOutput()
    invitation = InvitationOutput()


class InviteInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=200, allow_blank=True)
    username = serializers.CharField(
        max_length=150, allow_blank=True, help_text="usually firstname.lastname"
    )
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), allow_empty=True)
    profession = serializers.ChoiceField(
        choices=Person.Profession.choices,
        allow_blank=True,
        required=False,
        default="",
        help_text="practitioners",
    )
    rpps = serializers.CharField(
        max_length=20,
        allow_blank=True,
        required=False,
        default="",
        help_text="practitioners: 11 digits with their check digit (spaces allowed)",
    )
    email = serializers.EmailField(allow_blank=True, required=False, default="")


class RolesInput(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), allow_empty=True)


class DeactivateInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, allow_blank=True, help_text="kept in the audit trail"
    )


class SecondFactorResetInput(serializers.Serializer):
    admin_code = serializers.CharField(
        max_length=12,
        allow_blank=True,
        help_text="the administrator's own current six-digit code, to confirm",
    )


class StaffApi(PracticeAPIMixin, CarnetAPIView):
    """Every call is for the practice's administrators: the gate runs first."""

    def practice_gate(self) -> None:
        person_id = self.kwargs.get("person_id")
        require_practice(
            self.actor,
            PracticeAction.MANAGE_STAFF,
            self.practice.pk,
            target=f"person:{person_id}" if person_id else "staff",
        )

    def member(self, person_id: int) -> selectors.StaffMember:
        member = selectors.staff_member(self.practice.pk, person_id)
        if member is None:
            raise Http404(_("No such member of the practice."))
        return member

    def member_answer(self, person_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        member = self.member(person_id)
        return Response(_member_data(member), status=status_code)

    def issued_answer(self, request: Request, issued: staff.IssuedInvitation) -> Response:
        invitation = issued.invitation
        link = request.build_absolute_uri(reverse("accounts:invitation", args=[issued.secret]))
        data = {
            "person": _member_values(self.member(invitation.person_id)),
            "invitation": {
                "id": invitation.pk,
                "expires_at": invitation.expires_at,
                "link": link,
                "secret": issued.secret,
            },
        }
        return Response(IssuedInvitationOutput(data).data, status=status.HTTP_201_CREATED)


def _values(member: selectors.StaffMember, locked: frozenset[str]) -> dict[str, Any]:
    """What ``StaffMemberOutput`` shows of one member."""
    return {
        "person": member.person,
        "roles": member.roles,
        "former_roles": member.former_roles,
        "status": member.status(locked),
        "locked": member.is_locked(locked),
        "has_second_factor": member.has_second_factor,
        "invitation": member.invitation,
    }


def _member_values(member: selectors.StaffMember) -> dict[str, Any]:
    return _values(member, selectors.locked_usernames([member.person.username]))


def _member_data(member: selectors.StaffMember) -> dict[str, Any]:
    return StaffMemberOutput(_member_values(member)).data


def _output(member: selectors.StaffMember, locked: frozenset[str]) -> dict[str, Any]:
    return StaffMemberOutput(_values(member, locked)).data


def _secret_left_out(data: Any) -> Any:
    """The link is shown once: a replay of the answer does not show it again (and the
    stored answer never holds it; only a hash of the secret is kept)."""
    if isinstance(data, dict) and isinstance(data.get("invitation"), dict):
        data = {**data, "invitation": {**data["invitation"], "link": None, "secret": None}}
    return data


class StaffListApi(StaffApi):
    @extend_schema(responses=StaffMemberOutput(many=True))
    def get(self, request: Request) -> Response:
        members = selectors.staff_list(self.practice.pk)
        locked = selectors.locked_usernames([m.person.username for m in members])
        return Response([_output(member, locked) for member in members])

    @extend_schema(request=InviteInput, responses={201: IssuedInvitationOutput})
    def post(self, request: Request) -> Response:
        data = InviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = staff.staff_invite(actor=self.actor, practice=self.practice, **data.validated_data)
        return self.issued_answer(request, issued)

    def idempotent_answer(self, data: Any) -> Any:
        return _secret_left_out(data)


class StaffMemberApi(StaffApi):
    @extend_schema(responses=StaffMemberOutput)
    def get(self, request: Request, person_id: int) -> Response:
        return self.member_answer(person_id)


class StaffRolesApi(StaffApi):
    @extend_schema(request=RolesInput, responses=StaffMemberOutput)
    def put(self, request: Request, person_id: int) -> Response:
        data = RolesInput(data=request.data)
        data.is_valid(raise_exception=True)
        self.member(person_id)
        staff.staff_set_roles(
            actor=self.actor,
            practice=self.practice,
            person_id=person_id,
            roles=data.validated_data["roles"],
        )
        return self.member_answer(person_id)


class StaffDeactivateApi(StaffApi):
    @extend_schema(request=DeactivateInput, responses=StaffMemberOutput)
    def post(self, request: Request, person_id: int) -> Response:
        data = DeactivateInput(data=request.data)
        data.is_valid(raise_exception=True)
        self.member(person_id)
        staff.staff_deactivate(
            actor=self.actor,
            practice=self.practice,
            person_id=person_id,
            reason=data.validated_data["reason"],
        )
        return self.member_answer(person_id)


class StaffReactivateApi(StaffApi):
    @extend_schema(request=RolesInput, responses=StaffMemberOutput)
    def post(self, request: Request, person_id: int) -> Response:
        data = RolesInput(data=request.data)
        data.is_valid(raise_exception=True)
        self.member(person_id)
        staff.staff_reactivate(
            actor=self.actor,
            practice=self.practice,
            person_id=person_id,
            roles=data.validated_data["roles"],
        )
        return self.member_answer(person_id)


class StaffSecondFactorResetApi(StaffApi):
    @extend_schema(request=SecondFactorResetInput, responses=StaffMemberOutput)
    def post(self, request: Request, person_id: int) -> Response:
        data = SecondFactorResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        self.member(person_id)
        staff.staff_reset_second_factor(
            actor=self.actor,
            practice=self.practice,
            person_id=person_id,
            admin_code=data.validated_data["admin_code"],
        )
        return self.member_answer(person_id)


class StaffUnlockApi(StaffApi):
    @extend_schema(request=None, responses=StaffMemberOutput)
    def post(self, request: Request, person_id: int) -> Response:
        self.member(person_id)
        staff.staff_unlock(actor=self.actor, practice=self.practice, person_id=person_id)
        return self.member_answer(person_id)


class StaffReinviteApi(StaffApi):
    @extend_schema(request=None, responses={201: IssuedInvitationOutput})
    def post(self, request: Request, person_id: int) -> Response:
        self.member(person_id)
        issued = staff.staff_reinvite(actor=self.actor, practice=self.practice, person_id=person_id)
        return self.issued_answer(request, issued)

    def idempotent_answer(self, data: Any) -> Any:
        return _secret_left_out(data)
