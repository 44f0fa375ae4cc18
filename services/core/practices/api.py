"""REST API of the cooperative's administration: the member practices of this node, as on
the page (``cooperative_views``). Not a practice's API: the caller is a cooperative
administrator with their own verified session; a practice's API token never opens it
(the policy's ``decide_cooperative``)."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.access.policy import CooperativeAction
from core.access.services import require_cooperative
from core.accounts.models import ApiToken, Person
from core.accounts.selectors import actor_for
from core.api import CarnetAPIView
from core.audit.services import record_event
from core.practices import selectors
from core.practices.models import CooperativeMembership


class MemberPracticeOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    node = serializers.CharField(help_text="the node that serves the practice")
    plan = serializers.ChoiceField(choices=CooperativeMembership.Plan.choices)
    status = serializers.ChoiceField(choices=CooperativeMembership.Status.choices)
    shares = serializers.IntegerField(help_text="cooperative shares held")
    joined_on = serializers.DateField(allow_null=True, help_text="member since")
    left_on = serializers.DateField(allow_null=True)


class CooperativeMembersApi(CarnetAPIView):
    @extend_schema(responses=MemberPracticeOutput(many=True))
    def get(self, request: Request) -> Response:
        person: Person = request.user  # type: ignore[assignment]  # authenticated by DRF
        actor = actor_for(person, None)
        require_cooperative(
            actor,
            CooperativeAction.VIEW_MEMBERS,
            by_token=isinstance(request.auth, ApiToken),
            target="cooperative:members",
        )
        members = selectors.cooperative_members()
        record_event(
            "cooperative.members.read",
            actor=actor,
            target="cooperative:members",
            details={"practices": len(members)},
        )
        return Response(MemberPracticeOutput([asdict(m) for m in members], many=True).data)
