"""The OpenAPI description's error responses: every operation can answer with Carnet's
one error shape ({"error": {"code", "message", "status", "fields"?}}), so the schema
documents it for each status the API uses (see docs/api.md, "Status codes")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from core import idempotency

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "status": {"type": "integer"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        }
    },
}

ERRORS = {
    "400": "The input is not valid (`fields` says where), or cannot be read.",
    "401": "No valid token and no verified session.",
    "403": "No role in the practice, or the access policy refuses.",
    "404": "No such path, practice, patient, entry or invoice here.",
    "405": "This method is not served here.",
    "406": "The answer cannot be given in the format asked for.",
    "409": "The entry changed since the version sent.",
    "413": "The body is over the size limit.",
    "415": "The body's content type is not accepted.",
}


def error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the error responses to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(status, {"description": description, "content": reference})
    return result


IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "maxLength": idempotency.MAX_LENGTH},
    OpenApiParameter.HEADER,
    description=(
        "A new value (a UUID) per intended write. Sent again with the same key, a write "
        "already stored is not executed twice: its first answer is returned, with the "
        "header `Idempotent-Replayed: true`. Reusing a key for another request is refused."
    ),
)


class CarnetAutoSchema(AutoSchema):
    """Declares the ``Idempotency-Key`` header on every write to a practice's data (the
    writes ``core.api.PracticeAPIMixin`` serves)."""

    def get_override_parameters(self) -> list[Any]:
        from core.api import PracticeAPIMixin

        parameters = list(super().get_override_parameters())
        if self.method in idempotency.UNSAFE_METHODS and isinstance(self.view, PracticeAPIMixin):
            parameters.append(IDEMPOTENCY_KEY)
        return parameters
