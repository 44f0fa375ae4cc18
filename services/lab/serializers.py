"""The lab API's shapes: what a client sends and gets back."""

from __future__ import annotations

from rest_framework import serializers

from lab.models import Conclusion


class ReceivedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="filed, to_match or refused")
    reason_code = serializers.CharField()
    reason = serializers.CharField()
    already = serializers.BooleanField(help_text="received before: nothing was done")
    result_count = serializers.IntegerField()


class FileReceivedOutput(ReceivedOutput):
    files = ReceivedOutput(many=True, help_text="each message of the file, in order")


class QueueOutput(serializers.Serializer):
    """A file waiting for its patient: identity only, never a value."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    received_at = serializers.DateTimeField()
    filename = serializers.CharField()
    family = serializers.CharField()
    given = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    sex = serializers.CharField()
    nir = serializers.CharField()
    laboratory = serializers.CharField()
    observed_on = serializers.DateField(allow_null=True)
    reason = serializers.CharField()


class MatchInput(serializers.Serializer):
    patient = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    practitioner = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, allow_null=True
    )


class ToReadOutput(serializers.Serializer):
    id = serializers.IntegerField()
    patient_id = serializers.IntegerField()
    patient_name = serializers.CharField()
    laboratory = serializers.CharField()
    observed_on = serializers.DateField(allow_null=True)
    received_at = serializers.DateTimeField()
    result_count = serializers.IntegerField()
    abnormal_count = serializers.IntegerField()
    read = serializers.BooleanField()


class ResultLineOutput(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    code = serializers.CharField()
    value = serializers.CharField(help_text="in the reader's notation, with its unit")
    reference = serializers.CharField()
    flag = serializers.CharField()
    abnormal = serializers.BooleanField()
    at = serializers.DateTimeField()


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    patient_id = serializers.IntegerField()
    title = serializers.CharField()
    text = serializers.CharField()
    lines = ResultLineOutput(many=True)
    hidden = serializers.IntegerField()
    read = serializers.BooleanField()
    signed_off = serializers.BooleanField()


class SignOffInput(serializers.Serializer):
    conclusion = serializers.ChoiceField(choices=Conclusion.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
