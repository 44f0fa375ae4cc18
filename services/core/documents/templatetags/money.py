"""``{{ amount|money }}`` in the language of the page; ``{{ amount|money:"fr" }}`` on a
printed French document (core.documents.money)."""

from __future__ import annotations

from typing import Any

from django import template

from core.documents.money import money_text

register = template.Library()


@register.filter
def money(amount: Any, language: str | None = None) -> str:
    return money_text(amount, language)
