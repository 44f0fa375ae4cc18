"""The federation endpoint: the only part of a node other nodes talk to.

POST /federation/v1/messages with an ASCII-armoured OpenPGP message. The answer is 202
with the message id, or an error whose ``code`` says why: undecryptable, tampered,
unknown_sender, expired, misaddressed, replayed, too_large.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.audit.services import Outcome, record_event
from sharing.envelope import EnvelopeError
from sharing.services import gateway_receive, refusal_code


@csrf_exempt
@login_not_required
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.CARNET_GATEWAY_MAX_BYTES:
        return JsonResponse({"error": {"code": "too_large", "status": 413}}, status=413)
    try:
        sealed = request.body.decode("ascii")
    except UnicodeDecodeError:
        return JsonResponse({"error": {"code": "undecryptable", "status": 400}}, status=400)
    try:
        message = gateway_receive(sealed)
    except EnvelopeError as error:
        status, code = refusal_code(error)
        record_event(
            "message.refused", outcome=Outcome.DENIED, reason=str(error), details={"code": code}
        )
        return JsonResponse(
            {"error": {"code": code, "message": str(error), "status": status}}, status=status
        )
    return JsonResponse({"status": "accepted", "message_id": message.message_id}, status=202)
