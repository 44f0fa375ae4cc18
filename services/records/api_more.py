"""REST API: documents and letters, the patient's choices, emergency access."""

from __future__ import annotations

from django.db import transaction
from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import choices
from core.access.models import LabelGrant, Restriction, SensitivityLabel
from core.access.policy import Action, Category, Purpose
from core.audit.services import record_event
from records import access as records_access
from records import services
from records.api import RecordsApi, entry_serializer
from records.care_time_api_acts import record_api_act
from records.models import Document
from records.models.clinical import EntryStatus

DocumentOutput = entry_serializer(
    Document,
    ["kind", "title", "document_date", "content_type", "size", "sha256", "recipient", "reviewed"],
)


class DocumentUploadInput(serializers.Serializer):
    file = serializers.FileField()
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=[c for c in Document.Kind.choices if c[0] != "letter"])
    document_date = serializers.DateField()
    sensitivity = serializers.CharField(required=False, allow_blank=True, default="")


class LetterInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    recipient = serializers.CharField(max_length=300)
    body = serializers.CharField()
    document_date = serializers.DateField()
    sensitivity = serializers.CharField(required=False, allow_blank=True, default="")


class DocumentListApi(RecordsApi):
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(responses=DocumentOutput(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        access = self.patient_access(patient_id)
        records_access.require(
            self.actor, Action.READ, Category.CLINICAL, access.patient, access=access
        )
        documents = Document.objects.filter(patient=access.patient, status=EntryStatus.ACTIVE)
        visible = [
            d
            for d in documents.order_by("-document_date")[:500]
            if records_access.may_see_entry(self.actor, access, d)
        ]
        return Response(DocumentOutput(visible, many=True).data)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadInput}, responses={201: DocumentOutput}
    )
    def post(self, request: Request, patient_id: int) -> Response:
        data = DocumentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        upload = values.pop("file")
        access = self.patient_access(patient_id)
        with transaction.atomic():
            document = services.document_upload(
                actor=self.actor, access=access, upload=upload, size=upload.size, **values
            )
            record_api_act(request, self.actor, "documents", patient_id, document)
        return Response(DocumentOutput(document).data, status=status.HTTP_201_CREATED)


class DocumentFileApi(RecordsApi):
    @extend_schema(
        responses={
            (200, "application/pdf"): bytes,
            (200, "image/png"): bytes,
            (200, "image/jpeg"): bytes,
        }
    )
    def get(self, request: Request, patient_id: int, document_id: int) -> HttpResponseBase:
        access = self.patient_access(patient_id)
        document = Document.objects.filter(pk=document_id, patient=access.patient).first()
        if document is None or not document.file:
            raise Http404(_("No such document."))
        records_access.require_entry(self.actor, Action.READ, access, document, audit_success=False)
        record_event(
            "document.read",
            actor=self.actor,
            patient_id=access.patient.pk,
            category=Category.CLINICAL.value,
            target=f"document:{document.pk}",
        )
        response = FileResponse(document.file.open("rb"), content_type=document.content_type)
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class LetterApi(RecordsApi):
    @extend_schema(request=LetterInput, responses={201: DocumentOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = LetterInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_access(patient_id)
        with transaction.atomic():
            letter = services.letter_write(actor=self.actor, access=access, **data.validated_data)
            record_api_act(request, self.actor, "letters", patient_id, letter)
        return Response(DocumentOutput(letter).data, status=status.HTTP_201_CREATED)


class ExclusionInput(serializers.Serializer):
    person = serializers.IntegerField()
    source = serializers.CharField(max_length=200)  # type: ignore[assignment]
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    entry_type = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    entry_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class ExclusionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="person_id")
    entry_type = serializers.CharField()
    entry_id = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]
    recorded_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class LabelGrantInput(serializers.Serializer):
    person = serializers.IntegerField()
    label = serializers.ChoiceField(choices=SensitivityLabel.choices)  # type: ignore[assignment]
    source = serializers.CharField(max_length=200)  # type: ignore[assignment]


class BreakGlassInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    minutes = serializers.IntegerField(min_value=1, max_value=240, default=240)


class BreakGlassOutput(serializers.Serializer):
    id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    # The letter telling the patient: "pending" until the desk hands it over or posts it.
    letter = serializers.CharField()


class ChoicesApi(RecordsApi):
    def patient_for_choices(self, patient_id: int) -> records_access.PatientAccess:
        """The patient whose choices the actor may record. A refusal is audited; each
        change is recorded once, by the service that makes it."""
        access = self.patient_access(patient_id)
        records_access.require(
            self.actor,
            Action.WRITE,
            Category.ADMINISTRATIVE,
            access.patient,
            access=access,
            purpose=Purpose.ADMINISTRATION,
            audit_success=False,
        )
        return access


class ExclusionListApi(ChoicesApi):
    @extend_schema(request=ExclusionInput, responses={201: ExclusionOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = ExclusionInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_for_choices(patient_id)
        values = dict(data.validated_data)
        with transaction.atomic():
            restriction = choices.restriction_add(
                actor=self.actor,
                patient_id=access.patient.pk,
                person_id=values.pop("person"),
                **values,
            )
        return Response(ExclusionOutput(restriction).data, status=status.HTTP_201_CREATED)


class ExclusionDetailApi(ChoicesApi):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, patient_id: int, restriction_id: int) -> Response:
        access = self.patient_for_choices(patient_id)
        restriction = Restriction.objects.filter(
            pk=restriction_id, patient_id=access.patient.pk
        ).first()
        if restriction is None:
            raise Http404(_("No such restriction."))
        with transaction.atomic():
            choices.restriction_revoke(actor=self.actor, restriction=restriction)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LabelGrantApi(ChoicesApi):
    @extend_schema(request=LabelGrantInput, responses={201: None})
    def post(self, request: Request, patient_id: int) -> Response:
        data = LabelGrantInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_for_choices(patient_id)
        values = dict(data.validated_data)
        with transaction.atomic():
            choices.label_grant_add(
                actor=self.actor,
                patient_id=access.patient.pk,
                person_id=values.pop("person"),
                **values,
            )
        return Response(status=status.HTTP_201_CREATED)


class LabelGrantDetailApi(ChoicesApi):
    """DELETE: the patient withdraws the permission (effective on the next request)."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, patient_id: int, grant_id: int) -> Response:
        access = self.patient_for_choices(patient_id)
        grant = LabelGrant.objects.filter(pk=grant_id, patient_id=access.patient.pk).first()
        if grant is None:
            raise Http404(_("No such permission."))
        with transaction.atomic():
            choices.label_grant_revoke(
                actor=self.actor, grant=grant, source=str(request.query_params.get("source", ""))
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class BreakGlassApi(RecordsApi):
    @extend_schema(request=BreakGlassInput, responses={201: BreakGlassOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = BreakGlassInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_access(patient_id)
        # Recorded once, as the emergency access itself (``break_glass.start``).
        records_access.require(
            self.actor,
            Action.READ,
            Category.IDENTITY,
            access.patient,
            access=access,
            audit_success=False,
        )
        with transaction.atomic():
            grant = choices.break_glass_start(
                actor=self.actor, patient_id=access.patient.pk, **data.validated_data
            )
        return Response(BreakGlassOutput(grant).data, status=status.HTTP_201_CREATED)
