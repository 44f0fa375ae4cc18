"""The API's side of documentation time: a client opens a draft (the server notes when)
and sends its token back with the entry; a time the client declares is kept apart."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.access.policy import Action, Category
from records import access as records_access
from records.api import RecordsApi
from records.care_time_api_acts import API_ACTS
from records.services import care_time


class DraftInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(kind, kind) for kind in API_ACTS], help_text=str(_("the entry list's name"))
    )


class DraftOutput(serializers.Serializer):
    draft = serializers.CharField()
    kind = serializers.CharField()
    opened_at = serializers.DateTimeField()


class DraftApi(RecordsApi):
    """POST: open a draft of an entry for this patient; send ``draft`` with the entry."""

    @extend_schema(request=DraftInput, responses={201: DraftOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = DraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_access(patient_id)
        records_access.require(
            self.actor, Action.WRITE, Category.CLINICAL, access.patient, access=access
        )
        kind = API_ACTS[data.validated_data["kind"]]
        token = care_time.act_open(actor=self.actor, kind=kind, patient_id=patient_id)
        if not token:
            raise serializers.ValidationError(
                {"kind": [_("Only practitioners' documentation is timed.")]}
            )
        opening_at = care_time.opening_time(token)
        return Response(
            DraftOutput(
                {"draft": token, "kind": data.validated_data["kind"], "opened_at": opening_at}
            ).data,
            status=status.HTTP_201_CREATED,
        )
