"""REST API of the records service. Every endpoint goes through the same selectors and
services as the pages, hence through the access policy and the audit trail."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from django.db import transaction
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from core.access.policy import Action
from core.api import CarnetAPIView, PracticeAPIMixin
from core.documents.pdf import pdf_response
from core.prepared import Bound
from records import access as records_access
from records import printing, reference, search_text, selectors, services
from records.care_time_api_acts import record_api_act
from records.chart_output import chart_document
from records.models import (
    Allergy,
    Drug,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    Problem,
)
from records.models.clinical import EntryStatus
from records.reference import CIS_PATTERN


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


# --- serializers ------------------------------------------------------------------------


class PatientOutput(serializers.Serializer):
    id = serializers.IntegerField()
    birth_name = serializers.CharField()
    used_name = serializers.CharField()
    given_names = serializers.CharField()
    sex = serializers.CharField()
    birth_date = serializers.DateField()
    birth_place = serializers.CharField()
    nir = serializers.CharField()
    address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    phone = serializers.CharField()
    gp = serializers.IntegerField(source="gp_id", allow_null=True)
    deceased_on = serializers.DateField(allow_null=True)
    version = serializers.IntegerField()


class PatientDetailOutput(PatientOutput):
    email = serializers.CharField()
    contact_preference = serializers.CharField()
    gp_since = serializers.DateField(allow_null=True)
    trusted_person_name = serializers.CharField()
    trusted_person_relation = serializers.CharField()
    trusted_person_phone = serializers.CharField()
    advance_directives = serializers.BooleanField()
    advance_directives_location = serializers.CharField()


class PatientCorrectionInput(serializers.Serializer):
    """A correction of the identity: the version it starts from, why, and only the
    fields that change (the GP of record and the death have their own pages)."""

    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500)
    birth_name = serializers.CharField(max_length=100, required=False)
    used_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    given_names = serializers.CharField(max_length=150, required=False)
    sex = serializers.ChoiceField(choices=Patient.Sex.choices, required=False)
    birth_date = serializers.DateField(required=False)
    birth_place = serializers.CharField(max_length=100, required=False, allow_blank=True)
    nir = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    contact_preference = serializers.ChoiceField(
        choices=Patient.Contact.choices, required=False, allow_blank=True
    )
    trusted_person_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    trusted_person_relation = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )
    trusted_person_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    advance_directives = serializers.BooleanField(required=False)
    advance_directives_location = serializers.CharField(
        max_length=200, required=False, allow_blank=True
    )


class PatientInput(serializers.Serializer):
    birth_name = serializers.CharField(max_length=100)
    used_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    given_names = serializers.CharField(max_length=150)
    sex = serializers.ChoiceField(choices=Patient.Sex.choices)
    birth_date = serializers.DateField()
    birth_place = serializers.CharField(max_length=100, required=False, allow_blank=True)
    nir = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    confirm_not_duplicate = serializers.BooleanField(required=False, default=False)


ENTRY_COMMON = ["id", "author", "recorded_at", "version", "status", "sensitivity"]


def entry_serializer(model: Any, fields: list[str]) -> type[serializers.ModelSerializer]:
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": ENTRY_COMMON + fields,
            "read_only_fields": ["id", "author", "recorded_at", "version", "status"],
        },
    )
    return type(
        f"{model.__name__}Serializer",
        (serializers.ModelSerializer,),
        {"Meta": meta, "validate": _validate_moments},
    )


# Before 1911 the practice's time zone had offsets in seconds (Paris mean time), which
# no ISO 8601 / RFC 3339 reader accepts back; no clinical moment of a living patient is
# that old.
EARLIEST_MOMENT = datetime(1920, 1, 1, tzinfo=UTC)


def _validate_moments(self: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    errors = {
        name: [_("A date and time before 1920 is not accepted.")]
        for name, value in attrs.items()
        if isinstance(value, datetime) and value < EARLIEST_MOMENT
    }
    if errors:
        raise serializers.ValidationError(errors)
    return attrs


_ImmunizationBase: Any = entry_serializer(
    Immunization, ["vaccinated_on", "vaccine", "drug", "lot_number", "dose"]
)


class VaccineField(serializers.SlugRelatedField):
    """A BDPM vaccine by its CIS code. Anything that is not eight digits is refused
    before the database is asked (a NUL character would make it fail)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not CIS_PATTERN.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:20])
        return super().to_internal_value(data)


class ImmunizationSerializer(_ImmunizationBase):
    """A vaccination. ``drug`` is the CIS code of a BDPM vaccine (a product that is not
    in the list of vaccines is refused); ``vaccine`` is then its name unless given. A
    vaccine written as text alone stays accepted for histories brought from elsewhere."""

    drug = VaccineField(
        slug_field="cis",
        queryset=Drug.objects.filter(vaccine=True),
        required=False,
        allow_null=True,
        error_messages={
            "does_not_exist": gettext_lazy("{value} is not a vaccine of the BDPM list.")
        },
    )
    vaccine = serializers.CharField(max_length=300, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = _validate_moments(self, attrs)
        drug = attrs.get("drug")
        if drug is not None and not attrs.get("vaccine"):
            attrs["vaccine"] = drug.name
        if not attrs.get("vaccine") and not (self.instance and self.partial):
            raise serializers.ValidationError({"vaccine": [_("Give the vaccine.")]})
        return attrs


ENTRY_SERIALIZERS: dict[str, tuple[Any, type[serializers.ModelSerializer]]] = {
    "encounters": (
        Encounter,
        entry_serializer(
            Encounter,
            [
                "occurred_at",
                "kind",
                "reason",
                "subjective",
                "objective",
                "assessment",
                "plan",
                "documentation_seconds",
            ],
        ),
    ),
    "problems": (
        Problem,
        entry_serializer(
            Problem,
            [
                "code",
                "label",
                "clinical_status",
                "is_history",
                "long_term_condition",
                "onset",
                "resolved_on",
            ],
        ),
    ),
    "allergies": (
        Allergy,
        entry_serializer(
            Allergy, ["substance", "substance_code", "atc_class", "kind", "reaction", "severity"]
        ),
    ),
    "immunizations": (Immunization, ImmunizationSerializer),
    "observations": (
        Observation,
        entry_serializer(
            Observation,
            ["effective_at", "code", "label", "value", "value_text", "unit", "reviewed"],
        ),
    ),
}


class CorrectionInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=500)


class PrescriptionItemIO(serializers.Serializer):
    """A line: the drug by its CIS code (or a name typed freely, not checked), the
    posology structured (quantity per dose, unit, times per day or week) and/or in free
    text (``posology``), the duration."""

    drug_cis = serializers.CharField(max_length=8, required=False, allow_blank=True)
    drug_label = serializers.CharField(max_length=300, required=False, allow_blank=True)
    posology = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    dose_quantity = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True, default=None
    )
    dose_unit = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    frequency = serializers.IntegerField(required=False, allow_null=True, default=None)
    frequency_period = serializers.ChoiceField(
        choices=["day", "week"], required=False, default="day"
    )
    duration_days = serializers.IntegerField(min_value=1, max_value=366)
    long_term_condition = serializers.BooleanField(default=False)
    substitutable = serializers.BooleanField(default=True)
    show_brand = serializers.BooleanField(default=False)


class PrescriptionItemOutput(PrescriptionItemIO):
    dci = serializers.CharField()
    printed_name = serializers.CharField()
    posology_note = serializers.CharField()
    secure = serializers.BooleanField()
    frequency_period = serializers.CharField()  # type: ignore[assignment]


class PrescriptionInput(serializers.Serializer):
    items = PrescriptionItemIO(many=True)
    renewals = serializers.IntegerField(min_value=0, max_value=11, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    sensitivity = serializers.CharField(required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )


class PrescriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    prescribed_on = serializers.DateField()
    renewals = serializers.IntegerField()
    author = serializers.IntegerField(source="author_id")
    items = PrescriptionItemOutput(many=True, source="items.all")
    alerts = serializers.ListField(child=serializers.CharField())
    override_reason = serializers.CharField()


class CheckInput(serializers.Serializer):
    items = PrescriptionItemIO(many=True)


class AlertOutput(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField(source="css")
    kind = serializers.CharField()
    what = serializers.CharField()
    why = serializers.CharField()
    conduct = serializers.CharField()
    level = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    blocks = serializers.BooleanField()


class CheckedLineOutput(serializers.Serializer):
    drug = serializers.CharField()
    alerts = AlertOutput(many=True)


class SubstanceOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    atc = serializers.CharField()


class AtcClassOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class ChartOutput(serializers.Serializer):
    patient = PatientOutput()
    clinical_allowed = serializers.BooleanField()
    clinical_refusal = serializers.CharField()
    allergies = ENTRY_SERIALIZERS["allergies"][1](many=True)
    problems = ENTRY_SERIALIZERS["problems"][1](many=True)
    encounters = ENTRY_SERIALIZERS["encounters"][1](many=True)
    immunizations = ENTRY_SERIALIZERS["immunizations"][1](many=True)
    hidden = serializers.IntegerField()


class DrugOutput(serializers.Serializer):
    cis = serializers.CharField()
    name = serializers.CharField()
    dci = serializers.CharField()
    marketed = serializers.BooleanField()


class Cim10Output(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class AccessLineOutput(serializers.Serializer):
    occurred_at = serializers.DateTimeField(source="event.occurred_at")
    who = serializers.CharField()
    what = serializers.CharField()
    outcome = serializers.CharField(source="event.outcome")
    category = serializers.CharField(source="event.category")
    reason = serializers.CharField(source="event.reason")
    why = serializers.CharField()


# --- views ------------------------------------------------------------------------------


def search_query(request: Request, max_length: int) -> str:
    """A search box's text, cut to ``max_length``; 400 if no person could have typed it
    (a NUL byte, a control character: records.search_text)."""
    query = str(request.query_params.get("q", ""))[:max_length]
    problem = search_text.problem(query)
    if problem is not None:
        raise serializers.ValidationError({"q": [problem]})
    return query


class RecordsApi(PracticeAPIMixin, CarnetAPIView):
    """Base: the practice is entered; ``self.patient_access`` loads one patient."""

    def patient_access(self, patient_id: int) -> records_access.PatientAccess:
        return selectors.patient_with_access(patient_id)[1]


class PatientListApi(RecordsApi):
    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="name fragments, birth date or NIR")],
        responses=PatientOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        query = search_query(request, search_text.MAX_LENGTH)
        patients = selectors.patient_search(actor=self.actor, query=query)
        return Response(PatientOutput(patients, many=True).data)

    @extend_schema(request=PatientInput, responses={201: PatientOutput})
    def post(self, request: Request) -> Response:
        data = PatientInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            patient = services.patient_create(actor=self.actor, **data.validated_data)
        return Response(PatientOutput(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(RecordsApi):
    @extend_schema(responses=PatientDetailOutput)
    def get(self, request: Request, patient_id: int) -> Response:
        patient = selectors.patient_get(actor=self.actor, patient_id=patient_id)
        return Response(PatientDetailOutput(patient).data)

    @extend_schema(
        request=PatientCorrectionInput,
        responses=PatientDetailOutput,
        description="Correct the patient's identity: the version it starts from (409 if "
        "someone changed it since), a reason, and the fields that change. The values "
        "before the change are kept in the identity history.",
    )
    def patch(self, request: Request, patient_id: int) -> Response:
        access = self.patient_access(patient_id)  # 404 first: another practice's patient
        data = PatientCorrectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        version, reason = changes.pop("version"), changes.pop("reason")
        try:
            with transaction.atomic():
                patient = services.patient_identity_correct(
                    actor=self.actor,
                    access=access,
                    expected_version=version,
                    reason=reason,
                    **changes,
                )
        except services.IdentityConflict as conflict:
            raise Conflict(str(conflict)) from conflict
        return Response(PatientDetailOutput(patient).data)


class ChartApi(RecordsApi):
    def reads_ahead(self, patient_id: int, **_: Any) -> tuple[Hashable, Sequence[Bound]]:
        """The patient and the policy's facts go in the token's round trip."""
        return selectors.patient_reads_ahead(patient_id)

    @extend_schema(responses=ChartOutput)
    def get(self, request: Request, patient_id: int) -> Response:
        chart = selectors.chart_for(actor=self.actor, patient_id=patient_id)
        # The same document as ChartOutput (which describes it), written faster.
        return Response(chart_document(chart))


class EntryListApi(RecordsApi):
    """GET the entries of one kind the actor may see; POST a new one."""

    kind: ClassVar[str] = ""

    def get(self, request: Request, patient_id: int) -> Response:
        model, serializer = ENTRY_SERIALIZERS[self.kind]
        access = self.patient_access(patient_id)
        records_access.require(
            self.actor, Action.READ, records_access.Category.CLINICAL, access.patient, access=access
        )
        entries = model.objects.filter(patient=access.patient, status=EntryStatus.ACTIVE).order_by(
            "-pk"
        )[:500]
        visible = [e for e in entries if records_access.may_see_entry(self.actor, access, e)]
        return Response(serializer(visible, many=True).data)

    def post(self, request: Request, patient_id: int) -> Response:
        model, serializer = ENTRY_SERIALIZERS[self.kind]
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_access(patient_id)
        values = dict(data.validated_data)
        # A time the client states is its declaration, kept apart from the measured one.
        declared = values.pop("documentation_seconds", None)
        with transaction.atomic():
            entry = services.entry_create(
                actor=self.actor,
                access=access,
                model=model,
                **values,
            )
            act = record_api_act(request, self.actor, self.kind, patient_id, entry, declared)
            if act is not None and act.measured_seconds is not None:
                entry.documentation_seconds = act.measured_seconds
                entry.save(update_fields=["documentation_seconds"])
        return Response(serializer(entry).data, status=status.HTTP_201_CREATED)


class EntryDetailApi(RecordsApi):
    """GET one entry; PATCH corrects it (version + reason); DELETE marks it entered in
    error (version + reason in the body) — the row and its history stay."""

    kind: ClassVar[str] = ""

    def _entry(self, request: Request, patient_id: int, entry_id: int, action: Action) -> tuple:
        model, serializer = ENTRY_SERIALIZERS[self.kind]
        access = self.patient_access(patient_id)
        entry = model.objects.filter(pk=entry_id, patient=access.patient).first()
        if entry is None:
            raise Http404(_("No such entry."))
        records_access.require_entry(self.actor, action, access, entry)
        return access, entry, serializer

    def get(self, request: Request, patient_id: int, entry_id: int) -> Response:
        _access, entry, serializer = self._entry(request, patient_id, entry_id, Action.READ)
        return Response(serializer(entry).data)

    def patch(self, request: Request, patient_id: int, entry_id: int) -> Response:
        access, entry, serializer = self._entry(request, patient_id, entry_id, Action.WRITE)
        correction = CorrectionInput(data=request.data)
        correction.is_valid(raise_exception=True)
        changes = serializer(entry, data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        # "version" and "reason" belong to the correction; an encounter's own "reason"
        # field shares the name and must not be passed twice (it was a 500).
        fields = {
            name: value
            for name, value in changes.validated_data.items()
            if name not in CorrectionInput().fields
        }
        try:
            with transaction.atomic():
                updated = services.entry_update(
                    actor=self.actor,
                    access=access,
                    entry=entry,
                    expected_version=correction.validated_data["version"],
                    reason=correction.validated_data["reason"],
                    **fields,
                )
        except services.EditConflict as conflict:
            raise Conflict(str(conflict)) from conflict
        return Response(serializer(updated).data)

    def delete(self, request: Request, patient_id: int, entry_id: int) -> Response:
        access, entry, _serializer = self._entry(request, patient_id, entry_id, Action.WRITE)
        correction = CorrectionInput(data=request.data)
        correction.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                services.entry_mark_in_error(
                    actor=self.actor,
                    access=access,
                    entry=entry,
                    expected_version=correction.validated_data["version"],
                    reason=correction.validated_data["reason"],
                )
        except services.EditConflict as conflict:
            raise Conflict(str(conflict)) from conflict
        return Response(status=status.HTTP_204_NO_CONTENT)


def entry_views(kind: str) -> tuple[Any, Any]:
    """The list and detail views of one kind of entry, with their OpenAPI description."""
    list_view: Any = type(f"{kind.title()}ListApi", (EntryListApi,), {"kind": kind})
    detail_view: Any = type(f"{kind.title()}DetailApi", (EntryDetailApi,), {"kind": kind})
    serializer = ENTRY_SERIALIZERS[kind][1]
    # Each view class gets methods of its own to annotate: annotating the inherited
    # functions would give every kind the description of the last one.
    extend_schema(responses=serializer(many=True))(_own_method(list_view, "get"))
    extend_schema(request=serializer, responses={201: serializer})(_own_method(list_view, "post"))
    extend_schema(responses=serializer)(_own_method(detail_view, "get"))
    extend_schema(request=serializer, responses=serializer)(_own_method(detail_view, "patch"))
    extend_schema(request=CorrectionInput, responses={204: None})(
        _own_method(detail_view, "delete")
    )
    return list_view, detail_view


def _own_method(view: Any, name: str) -> Any:
    inherited = getattr(view, name)

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return inherited(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    setattr(view, name, method)
    return method


class PrescriptionListApi(RecordsApi):
    @extend_schema(responses=PrescriptionOutput(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        access = self.patient_access(patient_id)
        records_access.require(
            self.actor, Action.READ, records_access.Category.CLINICAL, access.patient, access=access
        )
        prescriptions = (
            Prescription.objects.filter(patient=access.patient, status=EntryStatus.ACTIVE)
            .prefetch_related("items")
            .order_by("-prescribed_on")[:200]
        )
        visible = [p for p in prescriptions if records_access.may_see_entry(self.actor, access, p)]
        return Response(PrescriptionOutput(visible, many=True).data)

    @extend_schema(request=PrescriptionInput, responses={201: PrescriptionOutput})
    def post(self, request: Request, patient_id: int) -> Response:
        data = PrescriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_access(patient_id)
        values = dict(data.validated_data)
        items = [services.ItemInput(**item) for item in values.pop("items")]
        with transaction.atomic():
            prescription = services.prescription_create(
                actor=self.actor,
                access=access,
                items=items,
                **values,
            )
            record_api_act(request, self.actor, "prescriptions", patient_id, prescription)
        return Response(PrescriptionOutput(prescription).data, status=status.HTTP_201_CREATED)


class PrescriptionCheckApi(RecordsApi):
    """The safety alerts of the lines, as the form shows them when a drug is picked;
    nothing is written. A blocking alert (allergy, contre-indication) will need an
    ``override_reason`` when the prescription is posted."""

    @extend_schema(request=CheckInput, responses=CheckedLineOutput(many=True))
    def post(self, request: Request, patient_id: int) -> Response:
        data = CheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = self.patient_access(patient_id)
        records_access.require(
            self.actor,
            Action.WRITE,
            records_access.Category.CLINICAL,
            access.patient,
            access=access,
        )
        items = [services.ItemInput(**item) for item in data.validated_data["items"]]
        labels = services.prescriptions.line_facts(items)
        checked = services.prescription_check(actor=self.actor, access=access, items=items)
        lines = [
            {"drug": fact.label, "alerts": alerts}
            for fact, alerts in zip(labels, checked, strict=True)
        ]
        return Response(CheckedLineOutput(lines, many=True).data)


class PrescriptionPdfApi(RecordsApi):
    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, patient_id: int, prescription_id: int) -> HttpResponse:
        pdf = printing.prescription_pdf(
            actor=self.actor,
            practice=self.practice,
            patient_id=patient_id,
            prescription_id=prescription_id,
        )
        return pdf_response(pdf, f"ordonnance-{prescription_id}.pdf")


class AccessReportApi(RecordsApi):
    @extend_schema(responses=AccessLineOutput(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        _patient, lines = printing.access_report(actor=self.actor, patient_id=patient_id)
        return Response(AccessLineOutput(lines, many=True).data)


class ReferenceSearchApi(RecordsApi):
    """A search box over reference data, as the pages' (records.reference): no patient
    data, nothing to audit. A subclass names what it lists and how it is written out."""

    output: ClassVar[type[serializers.Serializer]]
    search: ClassVar[Callable[[str], Sequence[Any]]]

    def get(self, request: Request) -> Response:
        found = type(self).search(search_query(request, 100))
        return Response(self.output(found, many=True).data)


SEARCH_Q = [OpenApiParameter("q", str)]


@extend_schema_view(get=extend_schema(parameters=SEARCH_Q, responses=DrugOutput(many=True)))
class DrugSearchApi(ReferenceSearchApi):
    output, search = DrugOutput, reference.drugs_typed


@extend_schema_view(get=extend_schema(parameters=SEARCH_Q, responses=SubstanceOutput(many=True)))
class SubstanceSearchApi(ReferenceSearchApi):
    """Substances of the BDPM compositions, to record an allergy (one per moiety)."""

    output, search = SubstanceOutput, reference.substances_typed


@extend_schema_view(get=extend_schema(parameters=SEARCH_Q, responses=AtcClassOutput(many=True)))
class AtcClassSearchApi(ReferenceSearchApi):
    """ATC classes by code or by words of WHO's English label, to record an allergy to a
    class (e.g. J01C penicillins)."""

    output, search = AtcClassOutput, reference.atc_classes_typed


@extend_schema_view(get=extend_schema(parameters=SEARCH_Q, responses=Cim10Output(many=True)))
class Cim10SearchApi(ReferenceSearchApi):
    output, search = Cim10Output, reference.cim10_typed
