"""REST API of the billing service (same services and policy as the pages)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from billing import fees, reports, selectors, services
from billing.invoice_output import invoice_document
from billing.models import Cover, Invoice, Pathway, Payment, PracticeTariff
from billing.pricing import Coverage
from billing.selectors.receivables import aging_report, patients_named
from billing.services.exports import fec_export
from billing.services.paper import invoice_paper_print
from billing.services.payments import remaining_due
from core.access.policy import PracticeAction, decide_practice
from core.access.services import require_practice
from core.accounts.selectors import practitioner_named
from core.api import CarnetAPIView, PracticeAPIMixin
from core.documents.pdf import pdf_response
from records.selectors.billing import patient_for_billing, patient_for_cover
from records.services import care_time


class ActOutput(serializers.Serializer):
    nomenclature = serializers.CharField()
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class LineIO(serializers.Serializer):
    code = serializers.CharField(
        max_length=16, help_text="the act's code; a key letter with its coefficient: AMI4"
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=999, default=1, help_text="kilometres for an IK; else 1 to 20"
    )
    excess = serializers.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    coefficient = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="a key letter's coefficient (AMI with 4: AMI 4), instead of writing AMI4",
    )


class InvoiceInput(serializers.Serializer):
    practitioner = serializers.IntegerField(help_text="person id of the practitioner issuing it")
    service_date = serializers.DateField()
    lines = LineIO(many=True)
    encounter = serializers.IntegerField(required=False, allow_null=True, default=None)
    long_term_condition = serializers.BooleanField(default=False)
    has_complementary = serializers.BooleanField(default=False)
    third_party_amo = serializers.BooleanField(default=False)
    third_party_amc = serializers.BooleanField(default=False)
    preferential = serializers.BooleanField(
        default=False, help_text="Belgian practice: the patient has preferential status (BIM)"
    )
    pathway = serializers.ChoiceField(
        choices=Pathway.choices,
        default="",
        help_text="the care pathway; 'outside': the AMO reimburses 30 % instead of 70 %",
    )
    draft = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=64,
        help_text="a practitioner's draft (POST /api/v1/patients/{id}/drafts/, 'invoices')",
    )


class InvoiceLineOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    quantity = serializers.IntegerField(help_text="kilometres for an IK")
    coefficient = serializers.DecimalField(
        max_digits=6, decimal_places=2, help_text="a key letter's (AMI 4: 4.00); else 1.00"
    )
    base_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    excess_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    charged_amount = serializers.DecimalField(max_digits=10, decimal_places=2)


class InvoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    patient = serializers.IntegerField(source="patient_id", allow_null=True)
    service_date = serializers.DateField()
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    amo_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    amc_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    patient_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    patient_contribution = serializers.DecimalField(max_digits=10, decimal_places=2)
    due_at_desk = serializers.DecimalField(max_digits=10, decimal_places=2)
    still_due = serializers.SerializerMethodField()  # a string with two decimals, like amounts
    lines = InvoiceLineOutput(many=True, source="lines.all")

    def get_still_due(self, invoice: Invoice) -> str:
        return f"{remaining_due(invoice):.2f}"


class PaymentInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=Payment.Method.choices)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    cheque_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default=""
    )
    cheque_bank = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    idempotency_key = serializers.CharField(
        max_length=64,
        help_text="the same key never pays twice (or the Idempotency-Key header)",
        required=False,
    )


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    received_at = serializers.DateTimeField()


class CreditNoteInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class JournalOutput(serializers.Serializer):
    day = serializers.DateField()
    closed = serializers.SerializerMethodField()
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=12, decimal_places=2))
    payments = PaymentOutput(many=True)
    invoices_issued = serializers.IntegerField()
    invoiced_total = serializers.DecimalField(max_digits=12, decimal_places=2)

    def get_closed(self, journal: selectors.Journal) -> bool:
        return bool(journal.cash_day and journal.cash_day.is_closed)


class CareWorkOutput(serializers.Serializer):
    practitioner = serializers.CharField(source="person.full_name")
    consultations = serializers.IntegerField()
    documentation_seconds = serializers.IntegerField()
    fees = serializers.DecimalField(max_digits=12, decimal_places=2)


class BillingApi(PracticeAPIMixin, CarnetAPIView):
    def invoice(self, invoice_id: int) -> Invoice:
        invoice = Invoice.objects.select_related("issuer").filter(pk=invoice_id).first()
        if invoice is None or invoice.patient_id is None:
            raise Http404(_("No such invoice."))
        patient_for_billing(actor=self.actor, patient_id=invoice.patient_id)
        return invoice

    def only_if(self, action: PracticeAction) -> None:
        """The policy decides who may see or do this in the practice."""
        if not decide_practice(self.actor, action, self.practice.pk):
            raise PermissionDenied


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Http404(_("Not a date.")) from error


class FeesApi(BillingApi):
    @extend_schema(parameters=[OpenApiParameter("date", str)], responses=ActOutput(many=True))
    def get(self, request: Request) -> Response:
        day = _day(str(request.query_params.get("date", timezone.localdate().isoformat())))
        rows = fees.tariffs_valid_on(
            day, practice_id=self.practice.pk, country=self.practice.country
        )
        return Response(ActOutput(rows, many=True).data)


class PatientInvoicesApi(BillingApi):
    @extend_schema(responses=InvoiceOutput(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = patient_for_billing(actor=self.actor, patient_id=patient_id)
        return Response(InvoiceOutput(selectors.invoices_of_patient(patient.pk), many=True).data)

    @extend_schema(request=InvoiceInput, responses={201: InvoiceOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = InvoiceInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        patient = patient_for_billing(actor=self.actor, patient_id=patient_id)
        person = practitioner_named(values["practitioner"], self.practice.pk)
        if person is None:
            raise serializers.ValidationError(
                {"practitioner": [_("No such practitioner in this practice.")]}
            )
        coverage = Coverage(
            long_term_condition=values["long_term_condition"],
            has_complementary=values["has_complementary"],
            third_party_amo=values["third_party_amo"],
            third_party_amc=values["third_party_amc"],
            preferential=values["preferential"],
        )
        with transaction.atomic():
            draft = services.invoice_draft(
                actor=self.actor,
                issuer=services.issuer_for(person),
                patient_id=patient.pk,
                birth_date=patient.birth_date,
                service_date=values["service_date"],
                lines=[services.LineInput(**line) for line in values["lines"]],
                coverage=coverage,
                encounter_id=values["encounter"],
                country=self.practice.country,
                national_number=patient.nir,
                pathway=values["pathway"],
            )
            invoice = services.invoice_issue(actor=self.actor, invoice=draft)
            # A practitioner's invoice is documentation, timed from the draft's opening.
            care_time.act_record(
                actor=self.actor,
                kind=care_time.ActKind.INVOICE,
                token=values["draft"],
                patient_id=patient.pk,
                entry_id=invoice.pk,
                source="api",
            )
        # The same document as InvoiceOutput (which describes it), written faster.
        return Response(invoice_document(invoice), status=status.HTTP_201_CREATED)


class InvoiceApi(BillingApi):
    @extend_schema(responses=InvoiceOutput)
    def get(self, request: Request, invoice_id: int) -> Response:
        return Response(invoice_document(self.invoice(invoice_id)))


class PaymentApi(BillingApi):
    @extend_schema(request=PaymentInput, responses={201: PaymentOutput, 200: PaymentOutput})
    def post(self, request: Request, invoice_id: int) -> Response:
        data = PaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        key = values.pop("idempotency_key", "") or request.headers.get("Idempotency-Key", "")
        if not key:
            raise serializers.ValidationError({"idempotency_key": [_("Give an idempotency key.")]})
        invoice = self.invoice(invoice_id)
        known = Payment.objects.filter(idempotency_key=key).exists()
        with transaction.atomic():
            payment = services.payment_record(
                actor=self.actor, invoice=invoice, idempotency_key=key, **values
            )
        return Response(
            PaymentOutput(payment).data,
            status=status.HTTP_200_OK if known else status.HTTP_201_CREATED,
        )


class CreditNoteApi(BillingApi):
    @extend_schema(request=CreditNoteInput, responses={201: InvoiceOutput})
    def post(self, request: Request, invoice_id: int) -> Response:
        data = CreditNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = self.invoice(invoice_id)
        with transaction.atomic():
            note = services.credit_note_issue(
                actor=self.actor, invoice=invoice, reason=data.validated_data["reason"]
            )
        return Response(InvoiceOutput(note).data, status=status.HTTP_201_CREATED)


class CareSheetApi(BillingApi):
    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, invoice_id: int) -> HttpResponse:
        invoice = self.invoice(invoice_id)
        patient = patient_for_billing(actor=self.actor, patient_id=invoice.patient_id or 0)
        pdf, name = invoice_paper_print(
            actor=self.actor,
            practice=self.practice,
            invoice=invoice,
            patient=patient,
            document="care_sheet",
        )
        return pdf_response(pdf, name)


class CashDayApi(BillingApi):
    @extend_schema(responses=JournalOutput)
    def get(self, request: Request, day: str) -> Response:
        self.only_if(PracticeAction.KEEP_CASH_BOOK)
        return Response(JournalOutput(selectors.cash_journal(_day(day))).data)


class CashDayCloseApi(BillingApi):
    @extend_schema(request=None, responses=JournalOutput)
    def post(self, request: Request, day: str) -> Response:
        self.only_if(PracticeAction.KEEP_CASH_BOOK)
        with transaction.atomic():
            services.day_close(actor=self.actor, day=_day(day))
        return Response(JournalOutput(selectors.cash_journal(_day(day))).data)


class FecApi(BillingApi):
    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="YYYY-MM")],
        responses={(200, "text/plain"): str},
    )
    def get(self, request: Request) -> HttpResponse:
        self.only_if(PracticeAction.EXPORT_ACCOUNTS)
        month = _day(
            f"{request.query_params.get('month', timezone.localdate().strftime('%Y-%m'))}-01"
        )
        text, _name = fec_export(actor=self.actor, month=month)
        return HttpResponse(text.encode("utf-8"), content_type="text/plain; charset=utf-8")


class CareWorkApi(BillingApi):
    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="YYYY-MM")],
        responses=CareWorkOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        self.only_if(PracticeAction.VIEW_CARE_WORK)
        month = _day(
            f"{request.query_params.get('month', timezone.localdate().strftime('%Y-%m'))}-01"
        )
        return Response(CareWorkOutput(reports.care_work(month), many=True).data)


class CoverIO(serializers.Serializer):
    """The patient's cover as the attestation states it (a new state on POST)."""

    id = serializers.IntegerField(read_only=True)
    regime = serializers.ChoiceField(choices=Cover.Regime.choices)
    caisse_code = serializers.CharField(max_length=3)
    caisse_name = serializers.CharField(max_length=100)
    rights_from = serializers.DateField()
    rights_until = serializers.DateField(required=False, allow_null=True, default=None)
    long_term_condition = serializers.BooleanField(default=False)
    long_term_until = serializers.DateField(required=False, allow_null=True, default=None)
    c2s = serializers.BooleanField(default=False)
    ame = serializers.BooleanField(default=False)
    amc_name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    amc_number = serializers.CharField(max_length=10, required=False, default="", allow_blank=True)
    amc_member_number = serializers.CharField(
        max_length=30, required=False, default="", allow_blank=True
    )
    amc_contract = serializers.CharField(
        max_length=60, required=False, default="", allow_blank=True
    )
    amc_until = serializers.DateField(required=False, allow_null=True, default=None)
    recorded_at = serializers.DateTimeField(read_only=True)


class CoverApi(BillingApi):
    @extend_schema(responses=CoverIO(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        """The patient's cover, the one in force first, then its history."""
        patient = patient_for_billing(actor=self.actor, patient_id=patient_id)
        return Response(CoverIO(selectors.cover_history(patient.pk), many=True).data)

    @extend_schema(request=CoverIO, responses={201: CoverIO})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = patient_for_cover(actor=self.actor, patient_id=patient_id)
        data = CoverIO(data=request.data)
        data.is_valid(raise_exception=True)
        made = services.cover_record(
            actor=self.actor,
            patient_id=patient.pk,
            values=services.CoverInput(**data.validated_data),
        )
        return Response(CoverIO(made).data, status=status.HTTP_201_CREATED)


class RejectionOutput(serializers.Serializer):
    noted_at = serializers.DateTimeField()
    reason = serializers.CharField()


class ReceivableOutput(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice.pk")
    reference = serializers.CharField(source="invoice.reference")
    service_date = serializers.DateField(source="invoice.service_date")
    patient_id = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    paid = serializers.DecimalField(max_digits=10, decimal_places=2)
    due = serializers.DecimalField(max_digits=10, decimal_places=2)
    age_days = serializers.IntegerField()
    rejections = RejectionOutput(many=True)

    def get_patient_id(self, share: Any) -> int | None:
        """Only a patient the reader may see (the others' shares stay, unnamed)."""
        named = self.context.get("named", {})
        return share.invoice.patient_id if share.invoice.patient_id in named else None


class InsurerAgingOutput(serializers.Serializer):
    insurer_code = serializers.CharField()
    insurer_name = serializers.CharField()
    payer = serializers.CharField()
    buckets = serializers.DictField(child=serializers.DecimalField(max_digits=12, decimal_places=2))
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    receivables = ReceivableOutput(many=True)


class TiersPayantApi(BillingApi):
    """What each insurer owes, by age (the aging report); each patient audited once."""

    @extend_schema(responses=InsurerAgingOutput(many=True))
    def get(self, request: Request) -> Response:
        self.only_if(PracticeAction.KEEP_CASH_BOOK)
        report = aging_report(timezone.localdate())
        shares = [share for insurer in report for share in insurer.receivables]
        named = patients_named(self.actor, shares)
        return Response(InsurerAgingOutput(report, many=True, context={"named": named}).data)


class TariffIO(serializers.Serializer):
    """One tariff of the practice's schedule (the shipped ones have ``own`` false)."""

    nomenclature = serializers.CharField(max_length=8)
    code = serializers.CharField(max_length=16)
    label = serializers.CharField(max_length=300)  # type: ignore[assignment]
    kind = serializers.ChoiceField(
        choices=["act", "modifier", "key", "distance", "excess"], default="act"
    )
    profession = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text="empty: any"
    )
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    amo_rate = serializers.DecimalField(max_digits=5, decimal_places=2, default=Decimal("70"))
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=200, required=False, allow_blank=True, default=""
    )
    own = serializers.SerializerMethodField()

    def get_own(self, row: Any) -> bool:
        return isinstance(row, PracticeTariff)


class TariffImportInput(serializers.Serializer):
    csv = serializers.CharField(
        max_length=1_000_000, help_text="the file's text: the columns of fees_fr.csv"
    )
    apply = serializers.BooleanField(
        default=False, help_text="false: check and answer what would be imported, store nothing"
    )


class TariffImportOutput(serializers.Serializer):
    applied = serializers.BooleanField()
    count = serializers.IntegerField()
    tariffs = TariffIO(many=True)


class FeeScheduleApi(BillingApi):
    """The practice's fee schedule on a day; a dated tariff added (administrators)."""

    @extend_schema(
        parameters=[OpenApiParameter("date", str, description="YYYY-MM-DD, today if absent")],
        responses=TariffIO(many=True),
    )
    def get(self, request: Request) -> Response:
        self.only_if(PracticeAction.VIEW_SETTINGS)
        day = _day(str(request.query_params.get("date", timezone.localdate().isoformat())))
        rows = fees.tariffs_valid_on(
            day, practice_id=self.practice.pk, country=self.practice.country
        )
        return Response(TariffIO(rows, many=True).data)

    @extend_schema(request=TariffIO, responses={201: TariffIO})
    def post(self, request: Request) -> Response:
        require_practice(  # before reading the body: a refusal is audited, then 403
            self.actor, PracticeAction.MANAGE_FEE_SCHEDULE, self.practice.pk, target="tariffs:new"
        )
        data = TariffIO(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k != "own"}
        values["code"] = values["code"].strip().upper()
        values["nomenclature"] = values["nomenclature"].strip().upper()
        tariff = services.tariff_set(
            actor=self.actor, values=services.TariffInput(**values), country=self.practice.country
        )
        return Response(TariffIO(tariff).data, status=status.HTTP_201_CREATED)


class FeeScheduleImportApi(BillingApi):
    """A CSV file of tariffs: checked (``apply`` false) or imported, all or nothing;
    the errors name their lines."""

    @extend_schema(request=TariffImportInput, responses=TariffImportOutput)
    def post(self, request: Request) -> Response:
        require_practice(
            self.actor,
            PracticeAction.MANAGE_FEE_SCHEDULE,
            self.practice.pk,
            target="tariffs:import",
        )
        data = TariffImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.tariffs_import(
            actor=self.actor,
            content=data.validated_data["csv"].encode("utf-8"),
            country=self.practice.country,
            apply=data.validated_data["apply"],
        )
        return Response(
            TariffImportOutput(
                {
                    "applied": result.applied,
                    "count": len(result.rows),
                    "tariffs": [row for _number, row in result.rows],
                }
            ).data
        )
