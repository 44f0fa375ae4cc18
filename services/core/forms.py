"""Helpers shared by every service's forms."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def attach_service_errors(form: Any, error: ValidationError) -> None:
    """Show a service's refusal on the form: on its field when there is one, else on top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
