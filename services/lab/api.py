"""REST API of the laboratory intake (docs/api.md, "Laboratory results"): the same
services and selectors as the pages, so every call is judged by the policy and audited
the same way.

``POST lab/files/`` takes the file as the laboratory sent it — the request body itself
(any text content type), or a multipart form with a ``file`` field — and answers 201
with what became of it, or 200 with ``already: true`` when it was received before.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import CarnetAPIView, PracticeAPIMixin
from lab import selectors, services
from lab import serializers as io
from lab.models import LabFile, Source
from lab.parsing import MAX_BYTES


class RawFileParser(BaseParser):
    """Any other body is the file itself (HPRIM, HL7, plain text, octet stream)."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {"raw": stream.read(MAX_BYTES + 1) if stream is not None else b""}


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _is_unknown(exc: Exception) -> bool:
    """A service's "no such …" (code ``unknown``, not about a field): a 404 here."""
    if not isinstance(exc, ValidationError) or hasattr(exc, "error_dict"):
        return False
    return any(error.code == "unknown" for error in exc.error_list)


def _received(lab_file: LabFile, already: bool) -> dict[str, Any]:
    return {
        "id": lab_file.pk,
        "status": lab_file.status,
        "reason_code": lab_file.reason_code,
        "reason": lab_file.reason,
        "already": already,
        "result_count": lab_file.result_count,
    }


class LabApi(PracticeAPIMixin, CarnetAPIView):
    def handle_exception(self, exc: Exception) -> Any:
        if _is_unknown(exc):
            exc = Http404(str(getattr(exc, "messages", [""])[0]))
        return super().handle_exception(exc)


class FilesApi(LabApi):
    parser_classes = [MultiPartParser, JSONParser, RawFileParser]

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={201: io.FileReceivedOutput, 200: io.FileReceivedOutput},
    )
    def post(self, request: Request) -> Response:
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is not None and hasattr(upload, "read"):
            raw, name = upload.read(MAX_BYTES + 1), upload.name or ""
        elif isinstance(upload, str):  # a form field holding the message's text
            raw, name = upload.encode("utf-8"), ""
        else:
            raw = request.data.get("raw", b"") if hasattr(request.data, "get") else b""
            name = request.headers.get("X-Filename", "")[:255]
        if not isinstance(raw, bytes) or not raw:
            raise ValidationError({"file": [_("Send the file the laboratory sent.")]})
        received = services.receive_file(
            actor=self.actor,
            practice_id=self.practice.pk,
            raw=raw,
            filename=name,
            source=Source.API,
        )
        first = received[0]
        body = _received(first.file, first.already)
        # An HPRIM file of several patients: each message, received on its own.
        body["files"] = [_received(r.file, r.already) for r in received]
        new = any(not r.already for r in received)
        return Response(body, status=status.HTTP_201_CREATED if new else status.HTTP_200_OK)


class QueueApi(LabApi):
    @extend_schema(responses=io.QueueOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(io.QueueOutput(selectors.matching_queue(self.actor), many=True).data)


class MatchApi(LabApi):
    @extend_schema(request=io.MatchInput, responses=io.ReceivedOutput)
    def post(self, request: Request, lab_file_id: int) -> Response:
        row = selectors.lab_file_for_matching(self.actor, lab_file_id)  # the gate first
        if row is None or row.status != "to_match":
            raise Http404(_("No such file waiting to be matched."))
        values = _valid(io.MatchInput, request.data)
        lab_file = services.match(
            actor=self.actor,
            lab_file_id=lab_file_id,
            patient_id=values["patient"],
            practitioner_id=values.get("practitioner"),
        )
        return Response(_received(lab_file, False))


class ToReadApi(LabApi):
    @extend_schema(responses=io.ToReadOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(io.ToReadOutput(selectors.to_read(self.actor), many=True).data)


class ReportApi(LabApi):
    @extend_schema(responses=io.ReportOutput)
    def get(self, request: Request, lab_file_id: int) -> Response:
        lab_file, report = services.report_open(actor=self.actor, lab_file_id=lab_file_id)
        body = {
            "id": lab_file.pk,
            "patient_id": report.patient_id,
            "title": report.title,
            "text": report.text,
            "lines": io.ResultLineOutput(report.lines, many=True).data,
            "hidden": report.hidden,
            "read": lab_file.read_at is not None,
            "signed_off": lab_file.signed_off_at is not None,
        }
        return Response(body)


class SignOffApi(LabApi):
    @extend_schema(request=io.SignOffInput, responses=io.ReceivedOutput)
    def post(self, request: Request, lab_file_id: int) -> Response:
        # The service asks the policy before it reads the values (a refusal, not a 400).
        data = request.data if isinstance(request.data, dict) else {}
        lab_file = services.sign_off(
            actor=self.actor,
            lab_file_id=lab_file_id,
            conclusion=str(data.get("conclusion", "")),
            note=str(data.get("note", "") or ""),
            # a draft opened through POST /api/v1/patients/{id}/drafts/ ("lab-results")
            draft=str(data.get("draft", "") or "")[:64],
            through_api=True,
        )
        return Response(_received(lab_file, False))
