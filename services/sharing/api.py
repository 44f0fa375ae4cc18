"""REST API of the sharing service: consents, shares, outbox, inbox."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.access import choices
from core.access.models import ShareCategory, SharingConsent
from core.access.policy import Action, Category, Purpose
from core.access.selectors import consents_of
from core.access.sharing import Recipient
from core.api import CarnetAPIView, PracticeAPIMixin
from core.documents.pdf import pdf_response, render_pdf
from records import access as records_access
from records.selectors import Patient, patient_of_practice
from sharing import selectors, services
from sharing.models import InboxMessage


class ConsentInput(serializers.Serializer):
    grantee_node = serializers.CharField(max_length=100)
    grantee_practice = serializers.CharField(max_length=100)
    grantee_practitioner = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    categories = serializers.ListField(child=serializers.ChoiceField(choices=ShareCategory.choices))
    labels = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    valid_from = serializers.DateField(required=False)
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    source = serializers.CharField(max_length=200)  # type: ignore[assignment]


class ConsentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    grantee_node = serializers.CharField()
    grantee_practice = serializers.CharField()
    grantee_practitioner = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    labels = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]


class ShareInput(serializers.Serializer):
    node = serializers.CharField(max_length=100)
    practice = serializers.CharField(max_length=100)
    practitioner = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=ShareCategory.choices), required=False, default=list
    )
    # A referral letter written now (kept in the record, sent as PDF) and documents of
    # the record to send; both need a consent covering letters.
    letter = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    documents = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=50
    )
    # Single entries besides whole categories: "allergies:12" (category and entry id).
    entries = serializers.ListField(
        child=serializers.RegexField(
            r"^(problems|allergies|medications|immunizations|observations):[1-9][0-9]{0,17}$",
            max_length=40,
        ),
        required=False,
        default=list,
        max_length=500,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chosen = attrs["categories"] or attrs["entries"] or attrs["documents"]
        if not (chosen or attrs["letter"].strip()):
            raise serializers.ValidationError(
                _("Choose what to send: a part of the record, a letter or a document.")
            )
        return attrs


class OutboxOutput(serializers.Serializer):
    message_id = serializers.CharField()
    kind = serializers.CharField()
    recipient_node = serializers.CharField()
    recipient_practice = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    patient_id = serializers.IntegerField(allow_null=True)
    summary = serializers.DictField()
    created_at = serializers.DateTimeField()
    # The receipt: when it came back, who answered, why a share was declined.
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    answered_by = serializers.CharField()
    answer_reason = serializers.CharField()


class InboxOutput(serializers.Serializer):
    message_id = serializers.CharField()
    kind = serializers.CharField()
    sender_node = serializers.CharField()
    sender_practice = serializers.CharField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    patient_id = serializers.IntegerField(allow_null=True)
    decline_reason = serializers.CharField()


class DeclineInput(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_REASON)


class AcceptInput(serializers.Serializer):
    patient = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="merge into this patient; empty: a new patient",
    )


class DirectoryOutput(serializers.Serializer):
    node = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    gateway = serializers.CharField()


class SharingApi(PracticeAPIMixin, CarnetAPIView):
    def patient(self, patient_id: int) -> Patient:
        patient = patient_of_practice(patient_id)
        if patient is None:
            raise Http404(_("No such patient in this practice."))
        return patient

    def patient_choices(self, patient_id: int, action: Action) -> Patient:
        """The patient's choices are administrative data of the practice (audited)."""
        patient = self.patient(patient_id)
        records_access.require(
            self.actor, action, Category.ADMINISTRATIVE, patient, purpose=Purpose.ADMINISTRATION
        )
        return patient


class ConsentListApi(SharingApi):
    @extend_schema(responses=ConsentOutput(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = self.patient_choices(patient_id, Action.READ)
        return Response(ConsentOutput(consents_of(patient.pk), many=True).data)

    @extend_schema(request=ConsentInput, responses={201: ConsentOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        patient = self.patient_choices(patient_id, Action.WRITE)
        values = dict(data.validated_data)
        values.setdefault("valid_from", timezone.localdate())
        with transaction.atomic():
            consent = choices.consent_give(actor=self.actor, patient_id=patient.pk, **values)
        return Response(ConsentOutput(consent).data, status=status.HTTP_201_CREATED)


def _consent(api: SharingApi, consent_id: int) -> tuple[SharingConsent, Patient]:
    consent = SharingConsent.objects.filter(pk=consent_id).first()
    if consent is None:
        raise Http404(_("No such consent."))
    return consent, api.patient_choices(consent.patient_id, Action.WRITE)


class ConsentApi(SharingApi):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, consent_id: int) -> Response:
        consent, _patient = _consent(self, consent_id)
        with transaction.atomic():
            services.consent_revoke_and_notify(
                actor=self.actor, practice=self.practice, consent=consent
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConsentReceiptApi(SharingApi):
    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, consent_id: int) -> HttpResponse:
        consent, patient = _consent(self, consent_id)
        pdf = render_pdf(
            "sharing/pdf/consent_receipt.html",
            {
                "consent": consent,
                "patient": patient,
                "practice": self.practice,
                "categories": [ShareCategory(c).label for c in consent.categories],
            },
        )
        return pdf_response(pdf, f"consentement-{consent.pk}.pdf")


class ShareApi(SharingApi):
    @extend_schema(request=ShareInput, responses={201: OutboxOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = ShareInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        patient = self.patient(patient_id)
        recipient = Recipient(values["node"], values["practice"], values["practitioner"])
        with transaction.atomic():
            message = services.share_send(
                actor=self.actor,
                practice=self.practice,
                patient=patient,
                recipient=recipient,
                categories=values["categories"],
                letter=values["letter"],
                documents=values["documents"],
                entries=values["entries"],
            )
        return Response(OutboxOutput(message).data, status=status.HTTP_201_CREATED)


class OutboxApi(SharingApi):
    @extend_schema(responses=OutboxOutput(many=True))
    def get(self, request: Request) -> Response:
        selectors.require_exchange_reader(self.actor, self.practice.pk)
        return Response(OutboxOutput(selectors.outbox_messages(limit=200), many=True).data)


class InboxApi(SharingApi):
    @extend_schema(responses=InboxOutput(many=True))
    def get(self, request: Request) -> Response:
        selectors.require_exchange_reader(self.actor, self.practice.pk)
        messages = selectors.inbox_shares(limit=200)
        return Response(InboxOutput(messages, many=True).data)


def _inbox(message_id: str) -> InboxMessage:
    message = selectors.inbox_share(message_id)
    if message is None:
        raise Http404(_("No such message."))
    return message


class InboxMessageApi(SharingApi):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, message_id: str) -> Response:
        bundle = selectors.share_preview(actor=self.actor, message=_inbox(message_id))
        return Response(bundle)


class InboxAcceptApi(SharingApi):
    @extend_schema(request=AcceptInput, responses={201: InboxOutput})
    def post(self, request: Request, message_id: str) -> Response:
        data = AcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = _inbox(message_id)
        target = (
            self.patient(data.validated_data["patient"]) if data.validated_data["patient"] else None
        )
        with transaction.atomic():
            services.share_accept(
                actor=self.actor, practice=self.practice, message=message, patient=target
            )
        message.refresh_from_db()
        return Response(InboxOutput(message).data, status=status.HTTP_201_CREATED)


class InboxDeclineApi(SharingApi):
    @extend_schema(request=DeclineInput, responses={200: InboxOutput})
    def post(self, request: Request, message_id: str) -> Response:
        message = _inbox(message_id)
        selectors.require_share_reader(self.actor, message)
        data = DeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            services.share_decline(
                actor=self.actor,
                practice=self.practice,
                message=message,
                reason=data.validated_data["reason"],
            )
        return Response(InboxOutput(message).data)


class DirectoryApi(SharingApi):
    @extend_schema(responses=DirectoryOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            DirectoryOutput(selectors.directory_entries(order=("node", "slug")), many=True).data
        )


class PortabilityApi(SharingApi):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, patient_id: int) -> Response:
        bundle = selectors.portability_bundle(actor=self.actor, patient_id=patient_id)
        response = Response(bundle)
        response["Content-Disposition"] = f'attachment; filename="dossier-{patient_id}.fhir.json"'
        return response


class RefusalInput(serializers.Serializer):
    source = serializers.CharField(max_length=200)  # type: ignore[assignment]


class RefusalApi(SharingApi):
    """The patient's global "I say no" to sharing (POST), or its withdrawal (DELETE)."""

    @extend_schema(request=RefusalInput, responses={201: None})
    def post(self, request: Request, patient_id: int) -> Response:
        data = RefusalInput(data=request.data)
        data.is_valid(raise_exception=True)
        patient = self.patient_choices(patient_id, Action.WRITE)
        with transaction.atomic():
            choices.sharing_refuse(
                actor=self.actor, patient_id=patient.pk, source=data.validated_data["source"]
            )
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, patient_id: int) -> Response:
        patient = self.patient_choices(patient_id, Action.WRITE)
        with transaction.atomic():
            choices.sharing_refusal_lift(actor=self.actor, patient_id=patient.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
