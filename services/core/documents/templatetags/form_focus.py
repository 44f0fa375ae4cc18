"""Where the cursor starts on a page whose main job is a form: its first field, or the
first field in error when the form comes back refused.

``{% focus_target form skip as focus_name %}`` names that field;
``{{ field|autofocused }}`` renders it with the ``autofocus`` attribute."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def focus_target(form: forms.BaseForm, skip: Iterable[str] | None = None) -> str:
    shown = [f for f in form.visible_fields() if not skip or f.name not in skip]
    for field in shown:
        if field.errors:
            return field.name
    return shown[0].name if shown else ""


@register.filter
def autofocused(field: forms.BoundField) -> SafeString:
    attrs: dict[str, Any] = {"autofocus": True}
    return field.as_widget(attrs=attrs)
